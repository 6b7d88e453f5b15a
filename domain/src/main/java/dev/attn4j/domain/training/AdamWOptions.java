package dev.attn4j.domain.training;

import dev.attn4j.ports.InvalidRequestException;

/**
 * AdamW's hyper-parameters other than the learning rate (which the {@link LearningRateSchedule} gives each
 * step): {@code torch.optim.AdamW}'s betas, eps and weight decay, and {@code clip_grad_norm_}'s max norm.
 *
 * <pre>{@code
 * AdamWOptions o = AdamWOptions.defaults().weightDecay(0.1).maxGradNorm(1.0);
 * }</pre>
 *
 * @param beta1       β₁ in {@code [0, 1)}
 * @param beta2       β₂ in {@code [0, 1)}
 * @param eps         ε {@code > 0}, added after the square root
 * @param weightDecay decoupled weight decay {@code >= 0} for the groups that decay
 *                    ({@link dev.attn4j.domain.parameters.ParameterRole#decayedByDefault()})
 * @param maxGradNorm global-norm clipping threshold {@code > 0}, or 0 for no clipping
 */
public record AdamWOptions(double beta1, double beta2, double eps, double weightDecay, double maxGradNorm) {

    /** Checks ranges. */
    public AdamWOptions {
        InvalidRequestException.check(beta1 >= 0 && beta1 < 1, "beta1", "in [0, 1)", beta1);
        InvalidRequestException.check(beta2 >= 0 && beta2 < 1, "beta2", "in [0, 1)", beta2);
        InvalidRequestException.check(Double.isFinite(eps) && eps > 0 && (float) eps > 0, "eps",
                "a finite number > 0 (also as a float)", eps);
        InvalidRequestException.check(Double.isFinite(weightDecay) && weightDecay >= 0, "weight decay",
                "a finite number >= 0", weightDecay);
        InvalidRequestException.check(Double.isFinite(maxGradNorm) && maxGradNorm >= 0, "max grad norm",
                "a finite number >= 0 (0 = no clipping)", maxGradNorm);
    }

    /** {@return Hugging Face {@code TrainingArguments}' defaults: betas (0.9, 0.999), eps 1e-8, no weight decay, clip at 1} */
    public static AdamWOptions defaults() {
        return new AdamWOptions(0.9, 0.999, 1e-8, 0.0, 1.0);
    }

    /**
     * {@return these options with betas}
     *
     * @param b1 β₁
     * @param b2 β₂
     */
    public AdamWOptions betas(double b1, double b2) {
        return new AdamWOptions(b1, b2, eps, weightDecay, maxGradNorm);
    }

    /**
     * {@return these options with eps}
     *
     * @param value ε
     */
    public AdamWOptions eps(double value) {
        return new AdamWOptions(beta1, beta2, value, weightDecay, maxGradNorm);
    }

    /**
     * {@return these options with the weight decay of decaying groups}
     *
     * @param value the decay
     */
    public AdamWOptions weightDecay(double value) {
        return new AdamWOptions(beta1, beta2, eps, value, maxGradNorm);
    }

    /**
     * {@return these options with the clipping threshold}
     *
     * @param value the max norm (0 = off)
     */
    public AdamWOptions maxGradNorm(double value) {
        return new AdamWOptions(beta1, beta2, eps, weightDecay, value);
    }

    /** {@return whether gradients are clipped by their global norm} */
    public boolean clipping() {
        return maxGradNorm > 0;
    }
}
