package dev.attn4j.domain.training;

/**
 * The learning-rate shape after warm-up ({@link LearningRateSchedule}).
 *
 * <pre>{@code
 * ScheduleKind kind = ScheduleKind.valueOf("COSINE");
 * }</pre>
 */
public enum ScheduleKind {
    /** Constant after warm-up (Hugging Face's {@code get_constant_schedule_with_warmup}). */
    CONSTANT,
    /** Linear decay to 0 at the last step ({@code get_linear_schedule_with_warmup}). */
    LINEAR,
    /** Half a cosine down to 0 at the last step ({@code get_cosine_schedule_with_warmup}). */
    COSINE
}
