package dev.attn4j.oracle;

/**
 * AdamW and the sum of squares of global-norm clipping, from {@link dev.attn4j.ports.optim.AdamWRequest},
 * {@link dev.attn4j.ports.optim.GradientClip} and {@link dev.attn4j.ports.optim.SumOfSquaresRequest}: element by
 * element, PyTorch's {@code torch.optim.AdamW} ({@code amsgrad=False}) and {@code clip_grad_norm_}. In
 * {@link Precision#FP32} every step is rounded to binary32 (AdamW's state is always F32).
 *
 * <pre>{@code
 * OptimizerOracle.AdamWState next = OptimizerOracle.adamW(p, g, m, v, 1, 1e-3, 0.9, 0.999, 1e-8, 0.01,
 *         OptimizerOracle.NO_CLIP, Precision.FP64);
 * }</pre>
 */
public final class OptimizerOracle {
    /** {@code clip_grad_norm_}'s guard against a zero norm. */
    public static final double CLIP_EPSILON = 1e-6;
    /** No clipping: a factor of 1. */
    public static final Clip NO_CLIP = null;

    private OptimizerOracle() {
    }

    /**
     * Global-norm clipping.
     *
     * @param maxNorm      the largest norm let through
     * @param sumOfSquares the squared global norm
     */
    public record Clip(double maxNorm, double sumOfSquares) {

        /** The factor {@code min(1, maxNorm / (√sumOfSquares + 1e-6))}. */
        double factor(Precision a) {
            double norm = a.round(Math.sqrt(sumOfSquares));
            return Math.min(1, a.round(maxNorm / a.round(norm + CLIP_EPSILON)));
        }
    }

    /**
     * The state after one step.
     *
     * @param params   the parameters
     * @param expAvg   the first moment {@code m}
     * @param expAvgSq the second moment {@code v}
     */
    public record AdamWState(double[] params, double[] expAvg, double[] expAvgSq) {
    }

    /**
     * One AdamW step: with {@code g = grad·clip}, {@code p ← p − lr·wd·p}, {@code m ← β₁m + (1−β₁)g},
     * {@code v ← β₂v + (1−β₂)g²}, {@code p ← p − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε)}.
     *
     * @param params      the parameters
     * @param grads       the gradients
     * @param expAvg      {@code m}
     * @param expAvgSq    {@code v}
     * @param step        {@code t}, from 1
     * @param lr          the learning rate
     * @param beta1       β₁
     * @param beta2       β₂
     * @param eps         ε
     * @param weightDecay the decoupled weight decay
     * @param clip        global-norm clipping, or {@link #NO_CLIP}
     * @param precision   {@link Precision#FP64} for golden values, {@link Precision#FP32} for the ref
     * @return the new parameters and moments
     */
    public static AdamWState adamW(double[] params, double[] grads, double[] expAvg, double[] expAvgSq, long step,
                                   double lr, double beta1, double beta2, double eps, double weightDecay, Clip clip,
                                   Precision precision) {
        Precision a = precision.accumulator();
        double factor = clip == null ? 1 : clip.factor(a);
        double bc1 = a.round(1 - a.round(Math.pow(beta1, step)));
        double bc2Sqrt = a.round(Math.sqrt(a.round(1 - a.round(Math.pow(beta2, step)))));
        double stepSize = a.round(lr / bc1);
        double decay = a.round(lr * weightDecay);
        int n = params.length;
        double[] p = new double[n];
        double[] m = new double[n];
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double g = clip == null ? grads[i] : a.round(grads[i] * factor);
            double decayed = a.round(params[i] - a.round(decay * params[i]));
            m[i] = precision.round(a.round(a.round(beta1 * expAvg[i]) + a.round(a.round(1 - beta1) * g)));
            v[i] = precision.round(a.round(a.round(beta2 * expAvgSq[i]) + a.round(a.round(a.round(1 - beta2) * g) * g)));
            double denom = a.round(a.round(a.round(Math.sqrt(v[i])) / bc2Sqrt) + eps);
            p[i] = precision.round(a.round(decayed - a.round(stepSize * a.round(m[i] / denom))));
        }
        return new AdamWState(p, m, v);
    }

    /**
     * {@return {@code accumulator + Σ x²}, summed in index order}
     *
     * @param x           the tensor
     * @param accumulator the accumulator's old value
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double sumOfSquares(double[] x, double accumulator, Precision precision) {
        Precision a = precision.accumulator();
        double sum = 0;
        for (double value : x) {
            sum = a.round(sum + a.round(value * value));
        }
        return a.round(accumulator + sum);
    }
}
