package dev.attn4j.domain.training;

import java.nio.file.Path;

/**
 * Hears what a {@link Trainer} does, on the training thread; every method defaults to nothing. Nothing here
 * forces a device read: {@link #onStep} gets only what the host knows.
 *
 * <pre>{@code
 * trainer.listener(new TrainingListener() {
 *     public void onStep(long step, double lr, long tokens) { bar.stepTo(step); }
 *     public void onLog(LogRecord r) { bar.setExtraMessage("loss " + r.loss()); }
 * });
 * }</pre>
 */
public interface TrainingListener {

    /**
     * After each optimizer step.
     *
     * @param step   steps done
     * @param lr     its learning rate
     * @param tokens its real (non-padding) tokens
     */
    default void onStep(long step, double lr, long tokens) {
    }

    /**
     * After a log (the loss was read).
     *
     * @param record the log
     */
    default void onLog(LogRecord record) {
    }

    /**
     * After an evaluation.
     *
     * @param record the evaluation
     */
    default void onEval(EvalRecord record) {
    }

    /**
     * After a checkpoint was written completely.
     *
     * @param step      the steps it holds
     * @param directory its directory
     */
    default void onCheckpoint(long step, Path directory) {
    }
}
