package dev.attn4j.ports.optim;

/**
 * Fused optimizer steps (docs/design.md §9): one call per parameter group, everything on the device.
 *
 * <pre>{@code
 * OptimizerPort opt = backend.optimizer();
 * opt.sumOfSquares(new SumOfSquaresRequest(grads, norm2));
 * opt.adamW(new AdamWRequest(params, grads, m, v, step, lr, 0.9f, 0.999f, 1e-8f, 0.01f, new GradientClip(1f, norm2)));
 * }</pre>
 */
public interface OptimizerPort {

    /**
     * One AdamW step over the group, in place.
     *
     * @param request the group's parameters, gradients and moments, the step, the hyperparameters and the
     *                optional gradient clip
     */
    void adamW(AdamWRequest request);

    /**
     * Adds the sum of squares of {@code x} into the accumulator.
     *
     * @param request the tensor {@code x} and the F32 {@code [1]} accumulator
     */
    void sumOfSquares(SumOfSquaresRequest request);
}
