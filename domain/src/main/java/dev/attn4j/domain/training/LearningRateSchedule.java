package dev.attn4j.domain.training;

import dev.attn4j.ports.InvalidRequestException;

/**
 * The learning rate of each optimizer step: linear warm-up from 0, then constant, linear decay to 0, or a half
 * cosine to 0, exactly as Hugging Face's {@code get_constant_schedule_with_warmup},
 * {@code get_linear_schedule_with_warmup} and {@code get_cosine_schedule_with_warmup} ({@code num_cycles = 0.5})
 * compute their {@code LambdaLR} factor, with {@code s} the number of optimizer steps already taken,
 * {@code W} the warm-up steps and {@code T} the total steps:
 * <pre>
 *   s &lt; W:   s / max(1, W)
 *   constant: 1
 *   linear:   max(0, (T − s) / max(1, T − W))
 *   cosine:   max(0, ½·(1 + cos(π · (s − W) / max(1, T − W))))
 * </pre>
 * The factor is computed in double and multiplies {@link #peakLr()}. As with {@code LambdaLR} stepped after each
 * {@code optimizer.step()}, the first update ({@code s = 0}) uses factor {@code 0} when {@code W > 0}: warm-up
 * starts from a zero learning rate.
 *
 * <pre>{@code
 * LearningRateSchedule lr = new LearningRateSchedule(ScheduleKind.COSINE, 3e-4, 100, 10_000);
 * double first = lr.at(0);         // 0.0
 * double peak = lr.at(100);        // 3e-4
 * }</pre>
 *
 * @param kind        the shape after warm-up
 * @param peakLr      the learning rate after warm-up, finite and {@code >= 0}
 * @param warmupSteps W, {@code >= 0}
 * @param totalSteps  T, {@code >= 1}
 */
public record LearningRateSchedule(ScheduleKind kind, double peakLr, long warmupSteps, long totalSteps) {

    /** Checks the values. */
    public LearningRateSchedule {
        InvalidRequestException.check(kind != null, "schedule", "constant, linear or cosine", "null");
        InvalidRequestException.check(Double.isFinite(peakLr) && peakLr >= 0, "lr", "a finite number >= 0", peakLr);
        InvalidRequestException.check(warmupSteps >= 0, "warmup", ">= 0 steps", warmupSteps);
        InvalidRequestException.check(totalSteps >= 1, "steps", ">= 1", totalSteps);
    }

    /**
     * {@return the factor of {@link #peakLr()} for the update that follows {@code step} earlier ones}
     *
     * @param step optimizer steps already taken, {@code >= 0}
     */
    public double factor(long step) {
        InvalidRequestException.check(step >= 0, "step", ">= 0", step);
        if (step < warmupSteps) {
            return (double) step / Math.max(1L, warmupSteps);
        }
        return switch (kind) {
            case CONSTANT -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - step) / Math.max(1L, totalSteps - warmupSteps));
            case COSINE -> {
                double progress = (double) (step - warmupSteps) / Math.max(1L, totalSteps - warmupSteps);
                // num_cycles = 0.5: π·num_cycles·2·progress = π·progress. StrictMath: the same bits in every JVM
                // and at every JIT tier, so a resumed run takes exactly the learning rates of an uninterrupted one.
                yield Math.max(0.0, 0.5 * (1.0 + StrictMath.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
        };
    }

    /**
     * {@return the learning rate of the update that follows {@code step} earlier ones}
     *
     * @param step optimizer steps already taken, {@code >= 0}
     */
    public double at(long step) {
        return peakLr * factor(step);
    }
}
