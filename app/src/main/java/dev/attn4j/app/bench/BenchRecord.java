package dev.attn4j.app.bench;

/**
 * One measured configuration: a row of the bench table and a record of {@code bench.json} (fields in snake
 * case). Timings and {@code gflops} are {@code null} when the configuration did not run ({@code status} says
 * why); {@code gflops} is also {@code null} for normalisation, which has no agreed FLOP count.
 *
 * @param backend  the backend's name
 * @param op       {@code attention}, {@code layer_norm} or {@code rms_norm}
 * @param batch    batch size B
 * @param heads    query heads H ({@code null} for normalisation)
 * @param kvHeads  key/value heads ({@code null} for normalisation)
 * @param seq      sequence length (Sq = Sk); for normalisation rows = batch × seq
 * @param headDim  head dimension D ({@code null} for normalisation)
 * @param hidden   normalised dimension C ({@code null} for attention)
 * @param dtype    storage type
 * @param causal   causal masking (attention)
 * @param backward whether the backward was timed (on the saved outputs of one forward)
 * @param threads  host threads the backend was given (its {@code threads} option, else all processors)
 * @param warmup   untimed runs before measuring
 * @param repeats  timed runs
 * @param msMedian median wall time of one run, milliseconds
 * @param msMin    fastest run
 * @param msMax    slowest run
 * @param gflops   FLOPs (docs/design.md §8) / median time / 1e9
 * @param status   {@code ok}, {@code unsupported: <capability>} or {@code failed: <error>}
 */
public record BenchRecord(String backend, String op, int batch, Integer heads, Integer kvHeads, int seq, Integer headDim,
                          Integer hidden, String dtype, boolean causal, boolean backward, int threads, int warmup,
                          int repeats, Double msMedian, Double msMin, Double msMax, Double gflops, String status) {
}
