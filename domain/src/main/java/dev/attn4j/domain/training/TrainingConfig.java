package dev.attn4j.domain.training;

import dev.attn4j.domain.model.NeftuneScaling;
import dev.attn4j.ports.InvalidRequestException;

/**
 * How a {@link Trainer} trains: the optimizer steps, micro-batches per step, the learning-rate schedule, AdamW,
 * the seed, NEFTune, and how often it logs, evaluates and checkpoints. The data (rows, micro-batch size, packing)
 * come with {@link TrainingData}.
 *
 * <pre>{@code
 * TrainingConfig c = TrainingConfig.of(1000, 3e-4)
 *         .gradientAccumulation(4)
 *         .schedule(ScheduleKind.COSINE, 100)
 *         .adamW(AdamWOptions.defaults().weightDecay(0.1))
 *         .neftune(5.0, NeftuneScaling.HUGGING_FACE)
 *         .every(10, 200, 500)              // log, eval, checkpoint
 *         .seed(42);
 * }</pre>
 *
 * @param steps                optimizer steps, {@code >= 1}
 * @param gradientAccumulation micro-batches per optimizer step, {@code >= 1}
 * @param lr                   the peak learning rate, finite and {@code >= 0}
 * @param schedule             its shape after warm-up
 * @param warmupSteps          linear warm-up steps, {@code >= 0}
 * @param adamW                AdamW's other hyper-parameters and clipping
 * @param seed                 the Philox key of the training noise (NEFTune); the caller seeds initialisation and
 *                             the data order with it too
 * @param neftuneAlpha         NEFTune's α, {@code >= 0} (0 = off)
 * @param neftuneScaling       how α becomes the noise bound
 * @param logEvery             read the loss from the device and log every this many steps ({@code >= 1}); the
 *                             last step always logs
 * @param evalEvery            evaluate every this many steps (0 = only at the end, when there is eval data)
 * @param checkpointEvery      checkpoint every this many steps (0 = only at the end and on a stop request)
 * @param keepCheckpoints      complete checkpoints kept ({@code >= 1}); older ones are deleted
 */
public record TrainingConfig(long steps, int gradientAccumulation, double lr, ScheduleKind schedule, long warmupSteps,
                             AdamWOptions adamW, long seed, double neftuneAlpha, NeftuneScaling neftuneScaling,
                             int logEvery, int evalEvery, int checkpointEvery, int keepCheckpoints) {

    /** Checks every value. */
    public TrainingConfig {
        InvalidRequestException.check(steps >= 1, "steps", ">= 1", steps);
        InvalidRequestException.check(gradientAccumulation >= 1, "gradient accumulation", ">= 1", gradientAccumulation);
        InvalidRequestException.check(Double.isFinite(lr) && lr >= 0 && Float.isFinite((float) lr), "lr",
                "a finite number >= 0", lr);
        InvalidRequestException.check(schedule != null, "schedule", "constant, linear or cosine", "null");
        InvalidRequestException.check(warmupSteps >= 0, "warmup", ">= 0 steps", warmupSteps);
        InvalidRequestException.check(adamW != null, "adamW", "AdamW options", "null");
        InvalidRequestException.check(Double.isFinite(neftuneAlpha) && neftuneAlpha >= 0, "neftune alpha",
                "a finite number >= 0 (0 = off)", neftuneAlpha);
        InvalidRequestException.check(neftuneScaling != null, "neftune scaling", "HUGGING_FACE or PADDLE", "null");
        InvalidRequestException.check(logEvery >= 1, "log every", ">= 1 steps", logEvery);
        InvalidRequestException.check(evalEvery >= 0, "eval every", ">= 0 steps (0 = at the end only)", evalEvery);
        InvalidRequestException.check(checkpointEvery >= 0, "checkpoint every", ">= 0 steps (0 = at the end only)",
                checkpointEvery);
        InvalidRequestException.check(keepCheckpoints >= 1, "keep", ">= 1 checkpoints", keepCheckpoints);
        // Philox offsets are (step · accumulation + micro-batch) · 2^20: they must fit a long.
        Math.multiplyExact(Math.multiplyExact(steps, (long) gradientAccumulation), Trainer.OFFSETS_PER_PASS);
    }

    /**
     * {@code steps} steps at a constant {@code lr}: no accumulation, no warm-up, {@link AdamWOptions#defaults()},
     * seed 0, no NEFTune, logging every step, evaluating and checkpointing at the end, keeping 3 checkpoints.
     *
     * @param steps optimizer steps
     * @param lr    the learning rate
     * @return the config
     */
    public static TrainingConfig of(long steps, double lr) {
        return new TrainingConfig(steps, 1, lr, ScheduleKind.CONSTANT, 0, AdamWOptions.defaults(), 0L, 0.0,
                NeftuneScaling.HUGGING_FACE, 1, 0, 0, 3);
    }

    /**
     * {@return this config with {@code k} micro-batches per step}
     *
     * @param k micro-batches per optimizer step
     */
    public TrainingConfig gradientAccumulation(int k) {
        return new TrainingConfig(steps, k, lr, schedule, warmupSteps, adamW, seed, neftuneAlpha, neftuneScaling,
                logEvery, evalEvery, checkpointEvery, keepCheckpoints);
    }

    /**
     * {@return this config with the schedule's shape and warm-up}
     *
     * @param kind   the shape after warm-up
     * @param warmup warm-up steps
     */
    public TrainingConfig schedule(ScheduleKind kind, long warmup) {
        return new TrainingConfig(steps, gradientAccumulation, lr, kind, warmup, adamW, seed, neftuneAlpha,
                neftuneScaling, logEvery, evalEvery, checkpointEvery, keepCheckpoints);
    }

    /**
     * {@return this config with AdamW's options}
     *
     * @param options the options
     */
    public TrainingConfig adamW(AdamWOptions options) {
        return new TrainingConfig(steps, gradientAccumulation, lr, schedule, warmupSteps, options, seed, neftuneAlpha,
                neftuneScaling, logEvery, evalEvery, checkpointEvery, keepCheckpoints);
    }

    /**
     * {@return this config with the seed}
     *
     * @param value the seed
     */
    public TrainingConfig seed(long value) {
        return new TrainingConfig(steps, gradientAccumulation, lr, schedule, warmupSteps, adamW, value, neftuneAlpha,
                neftuneScaling, logEvery, evalEvery, checkpointEvery, keepCheckpoints);
    }

    /**
     * {@return this config with NEFTune}
     *
     * @param alpha   α (0 = off)
     * @param scaling how α becomes the bound
     */
    public TrainingConfig neftune(double alpha, NeftuneScaling scaling) {
        return new TrainingConfig(steps, gradientAccumulation, lr, schedule, warmupSteps, adamW, seed, alpha, scaling,
                logEvery, evalEvery, checkpointEvery, keepCheckpoints);
    }

    /**
     * {@return this config logging, evaluating and checkpointing every so many steps}
     *
     * @param log        log every this many steps
     * @param eval       evaluate every this many steps (0 = at the end)
     * @param checkpoint checkpoint every this many steps (0 = at the end)
     */
    public TrainingConfig every(int log, int eval, int checkpoint) {
        return new TrainingConfig(steps, gradientAccumulation, lr, schedule, warmupSteps, adamW, seed, neftuneAlpha,
                neftuneScaling, log, eval, checkpoint, keepCheckpoints);
    }

    /**
     * {@return this config keeping {@code k} checkpoints}
     *
     * @param k checkpoints kept
     */
    public TrainingConfig keep(int k) {
        return new TrainingConfig(steps, gradientAccumulation, lr, schedule, warmupSteps, adamW, seed, neftuneAlpha,
                neftuneScaling, logEvery, evalEvery, checkpointEvery, k);
    }

    /**
     * {@return this config with another number of steps}
     *
     * @param value optimizer steps
     */
    public TrainingConfig steps(long value) {
        return new TrainingConfig(value, gradientAccumulation, lr, schedule, warmupSteps, adamW, seed, neftuneAlpha,
                neftuneScaling, logEvery, evalEvery, checkpointEvery, keepCheckpoints);
    }

    /**
     * {@return the optimizer steps that read {@code epochs} epochs of {@code loader}'s batches, {@code accumulation}
     * batches a step (rounded up, at least 1)}
     *
     * @param epochs       epochs, finite and {@code > 0}
     * @param loader       the training batches
     * @param accumulation micro-batches per step, {@code >= 1}
     */
    public static long stepsForEpochs(double epochs, dev.attn4j.domain.data.DataLoader loader, int accumulation) {
        InvalidRequestException.check(Double.isFinite(epochs) && epochs > 0, "epochs", "a finite number > 0", epochs);
        InvalidRequestException.check(loader != null, "loader", "a data loader", "null");
        InvalidRequestException.check(accumulation >= 1, "gradient accumulation", ">= 1", accumulation);
        double steps = Math.ceil(epochs * loader.batchesPerEpoch() / accumulation);
        InvalidRequestException.check(steps < Long.MAX_VALUE / Trainer.OFFSETS_PER_PASS, "epochs",
                "fewer than " + Long.MAX_VALUE / Trainer.OFFSETS_PER_PASS + " steps", epochs);
        return Math.max(1, (long) steps);
    }

    /** {@return the learning-rate schedule} */
    public LearningRateSchedule learningRates() {
        return new LearningRateSchedule(schedule, lr, warmupSteps, steps);
    }
}
