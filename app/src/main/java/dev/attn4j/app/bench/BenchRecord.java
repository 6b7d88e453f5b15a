package dev.attn4j.app.bench;

/**
 * One measured configuration: a row of the bench table and a record of {@code bench.json} (fields in snake
 * case). Timings, {@code gflops} and {@code gbps} are {@code null} when the configuration did not run
 * ({@code status} says why); {@code gflops} is also {@code null} for ops without an agreed FLOP count
 * (normalisation, the memory-bound ops), and {@code gbps} for ops that are not memory-bound.
 *
 * @param backend  the backend's name
 * @param op       {@code attention}, {@code layer_norm}, {@code rms_norm}, {@code gemm}, a memory-bound op
 *                 ({@code copy}, {@code add}, {@code axpy}, ...), {@code linear_cross_entropy} or
 *                 {@code cross_entropy_gemms}
 * @param shape    the sizes in one string: {@code B=1 S=512 H=8 KV=8 D=64} (attention), {@code rows=512 C=1024}
 *                 (normalisation), {@code MxNxK} (gemm: C is M×N, K the reduction), {@code n=16777216} (a
 *                 memory-bound op: elements of its output), {@code N=4096 V=20000 d=512} (cross-entropy)
 * @param batch    batch size B (attention, normalisation; else {@code null})
 * @param heads    query heads H (attention; else {@code null})
 * @param kvHeads  key/value heads (attention; else {@code null})
 * @param seq      sequence length, Sq = Sk (attention, normalisation: rows = batch × seq; else {@code null})
 * @param headDim  head dimension D (attention; else {@code null})
 * @param hidden   normalised dimension C, or the row width of the memory-bound ops ({@code null} otherwise)
 * @param form     the transposes of a gemm, {@code NN}, {@code NT}, {@code TN} or {@code TT} (else {@code null})
 * @param dtype    storage type
 * @param causal   causal masking (attention)
 * @param backward whether the backward was timed (on the saved outputs of one forward)
 * @param threads  host threads the backend was given (its {@code threads} option, else all processors)
 * @param warmup   untimed runs before measuring
 * @param repeats  timed runs
 * @param msMedian median wall time of one run, milliseconds
 * @param msMin    fastest run
 * @param msMax    slowest run
 * @param gflops   FLOPs (docs/design.md §8, §14) / median time / 1e9
 * @param gbps     bytes read and written / median time / 1e9 (memory-bound ops)
 * @param status   {@code ok}, {@code unsupported: <capability>} or {@code failed: <error>}
 */
public record BenchRecord(String backend, String op, String shape, Integer batch, Integer heads, Integer kvHeads,
                          Integer seq, Integer headDim, Integer hidden, String form, String dtype, boolean causal,
                          boolean backward, int threads, int warmup, int repeats, Double msMedian, Double msMin,
                          Double msMax, Double gflops, Double gbps, String status) {
}
