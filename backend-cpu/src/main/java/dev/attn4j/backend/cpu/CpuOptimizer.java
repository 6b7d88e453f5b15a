package dev.attn4j.backend.cpu;

import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Fused AdamW and the sums of squares of global-norm clipping, on the CPU (F32).
 *
 * <p>AdamW follows {@code AdamWRequest}'s formulas ({@code torch.optim.AdamW}): the step's constants are computed
 * once in double, as PyTorch computes them in Python ({@code StrictMath.pow}, so they do not depend on the JIT),
 * then every element is updated in fp32 ({@link ElementwiseKernels.AdamWStep}). The clipping factor
 * {@code min(1, maxNorm / (√ss + 1e-6))} is computed in fp32 from the accumulator, as
 * {@code clip_grad_norm_} does, and multiplies each gradient as it is read.
 *
 * <p>{@link #sumOfSquares} is deterministic: each {@link WorkerPool#RANGE}-sized piece is summed in double in a
 * fixed order ({@link ElementwiseKernels#dot}), the pieces are added in order, and the total is added to the
 * accumulator with one rounding.
 */
final class CpuOptimizer implements OptimizerPort {
    /** {@code clip_grad_norm_}'s guard against a zero norm. */
    static final float CLIP_EPS = 1e-6f;

    private final WorkerPool pool;
    private final ElementwiseKernels kernels;

    CpuOptimizer(WorkerPool pool) {
        this(pool, ElementwiseKernels.get());
    }

    /** With given kernels, so tests can run the scalar and vector twins side by side. */
    CpuOptimizer(WorkerPool pool, ElementwiseKernels kernels) {
        this.pool = pool;
        this.kernels = kernels;
    }

    @Override
    public void adamW(AdamWRequest r) {
        Span<float[]> p = f32(r.params());
        Span<float[]> g = f32(r.grads());
        Span<float[]> m = f32(r.expAvg());
        Span<float[]> v = f32(r.expAvgSq());
        // The request rejects one tensor passed twice; views of one storage can still overlap.
        Span<?>[] all = {p, g, m, v};
        String[] names = {"params", "grads", "expAvg", "expAvgSq"};
        for (int i = 0; i < all.length; i++) {
            for (int j = i + 1; j < all.length; j++) {
                CpuElementwise.requireApart(names[i], all[i], names[j], all[j], false);
            }
        }
        ElementwiseKernels.AdamWStep step = step(r);
        pool.forRanges(p.length(), (from, to) -> kernels.adamW(step, p.array(), p.offset() + from, g.array(),
                g.offset() + from, m.array(), m.offset() + from, v.array(), v.offset() + from, to - from));
    }

    /** The step's constants (see {@link ElementwiseKernels.AdamWStep}). */
    static ElementwiseKernels.AdamWStep step(AdamWRequest r) {
        double lr = r.lr();
        double biasCorrection1 = 1.0 - StrictMath.pow(r.beta1(), (double) r.step());
        double biasCorrection2 = 1.0 - StrictMath.pow(r.beta2(), (double) r.step());
        return new ElementwiseKernels.AdamWStep(clipFactor(r.clip()), (float) (1.0 - lr * r.weightDecay()), r.beta1(),
                (float) (1.0 - r.beta1()), r.beta2(), (float) (1.0 - r.beta2()), (float) (-lr / biasCorrection1),
                (float) Math.sqrt(biasCorrection2), r.eps());
    }

    /** {@code min(1, maxNorm / (√ss + 1e-6))} in fp32, or 1 without clipping. */
    static float clipFactor(GradientClip clip) {
        if (clip == null) {
            return 1f;
        }
        Span<float[]> ss = f32(clip.sumOfSquares());
        float norm = (float) Math.sqrt(ss.array()[ss.offset()]);
        return Math.min(1f, clip.maxNorm() / (norm + CLIP_EPS));
    }

    @Override
    public void sumOfSquares(SumOfSquaresRequest r) {
        Span<float[]> x = f32(r.x());
        Span<float[]> acc = f32(r.accumulator());
        double[] parts = new double[WorkerPool.rangeCount(x.length())];
        pool.forEach(parts.length, k -> {
            int from = k * WorkerPool.RANGE;
            int n = Math.min(WorkerPool.RANGE, x.length() - from);
            parts[k] = kernels.dot(x.array(), x.offset() + from, x.array(), x.offset() + from, n);
        });
        double total = 0;
        for (double part : parts) {
            total += part;
        }
        float[] a = acc.array();
        a[acc.offset()] = (float) (a[acc.offset()] + total);
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return ((CpuTensor) t).f32();
    }
}
