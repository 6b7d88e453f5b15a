package dev.attn4j.domain.training;

/**
 * What the trainer logs every {@link TrainingConfig#logEvery()} steps (and at the last step), the only moment
 * it reads the loss from the device.
 *
 * <pre>{@code
 * trainer.listener(new TrainingListener() {
 *     public void onLog(LogRecord r) { System.out.printf("step %d loss %.4f%n", r.step(), r.loss()); }
 * });
 * }</pre>
 *
 * @param step            optimizer steps done
 * @param epoch           epochs done, fractional (rows read / rows per epoch)
 * @param loss            mean cross-entropy per trained token over the steps since the last log
 * @param lr              the learning rate of the last step
 * @param gradNorm        the global gradient norm of the last step before clipping (NaN without clipping)
 * @param steps           optimizer steps since the last log
 * @param trainedTokens   tokens with a loss since the last log
 * @param tokens          real (non-padding) tokens since the last log
 * @param tokensPerSecond real tokens per second of training since the last log
 */
public record LogRecord(long step, double epoch, double loss, double lr, double gradNorm, long steps,
                        long trainedTokens, long tokens, double tokensPerSecond) {
}
