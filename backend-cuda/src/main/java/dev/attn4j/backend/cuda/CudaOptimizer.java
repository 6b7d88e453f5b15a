package dev.attn4j.backend.cuda;

import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.List;

/**
 * Launches {@code optim.cu}. AdamW's per-call constants are computed here once, in double as PyTorch computes them
 * in Python ({@link StrictMath#pow}, so they do not depend on the JIT), and rounded to float — the cpu backend's
 * formulas, so that the two backends' steps agree bit for bit; the clipping factor is computed on the device from
 * the accumulated sum of squares. {@link #sumOfSquares} is a fixed-grid, fixed-order reduction in double.
 */
final class CudaOptimizer implements OptimizerPort {
    /** Threads per block ({@code OPT_THREADS} in optim.cu). */
    static final int THREADS = 256;
    /** Blocks of the sum of squares' first pass, whatever the size ({@code SUMSQ_BLOCKS}). */
    static final int SUMSQ_BLOCKS = 256;

    private final CudaEngine engine;

    CudaOptimizer(CudaEngine engine) {
        this.engine = engine;
    }

    @Override
    public void adamW(AdamWRequest r) {
        List<DeviceTensor> all = List.of(r.params(), r.grads(), r.expAvg(), r.expAvgSq());
        List<String> names = List.of("params", "grads", "expAvg", "expAvgSq");
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                CudaEngine.requireApart(names.get(i), all.get(i), names.get(j), all.get(j), false);
            }
            if (r.clip() != null) {
                CudaEngine.requireApart(names.get(i), all.get(i), "clip.sumOfSquares", r.clip().sumOfSquares(), false);
            }
        }
        long n = r.params().shape().elementCount();
        engine.run(() -> {
            engine.launchItems(KernelCatalog.ADAMW, n, THREADS, adamWArgs(r, ptr(r.params()), ptr(r.grads()),
                    ptr(r.expAvg()), ptr(r.expAvgSq()), r.clip() != null ? ptr(r.clip().sumOfSquares()) : DevicePointer.NULL));
            engine.synchronize("adamw " + r.params().shape());
        });
    }

    /**
     * The AdamW kernel's arguments: the four tensors, the count, the sum of squares (null without clipping), the clip
     * flag, maxNorm, then {@code 1 − lr·wd}, β₁, {@code 1 − β₁}, β₂, {@code 1 − β₂}, {@code −lr/(1 − β₁ᵗ)},
     * {@code √(1 − β₂ᵗ)}, ε.
     */
    static Object[] adamWArgs(AdamWRequest r, DevicePointer p, DevicePointer g, DevicePointer m, DevicePointer v,
                              DevicePointer sumOfSquares) {
        double lr = r.lr();
        double biasCorrection1 = 1.0 - StrictMath.pow(r.beta1(), (double) r.step());
        double biasCorrection2 = 1.0 - StrictMath.pow(r.beta2(), (double) r.step());
        return new Object[] {p, g, m, v, r.params().shape().elementCount(), sumOfSquares, r.clip() != null ? 1 : 0,
                r.clip() != null ? r.clip().maxNorm() : 0f, (float) (1.0 - lr * r.weightDecay()), r.beta1(),
                (float) (1.0 - r.beta1()), r.beta2(), (float) (1.0 - r.beta2()), (float) (-lr / biasCorrection1),
                (float) Math.sqrt(biasCorrection2), r.eps()};
    }

    @Override
    public void sumOfSquares(SumOfSquaresRequest r) {
        CudaEngine.requireApart("accumulator", r.accumulator(), "x", r.x(), false);
        long n = r.x().shape().elementCount();
        DType t = r.x().dtype();
        engine.run(() -> {
            // one double per block, held as two F32 elements
            CudaTensor partial = engine.allocate(Shape.of(2 * SUMSQ_BLOCKS), DType.F32);
            try {
                engine.launch(KernelCatalog.sumOfSquaresPartials(t), SUMSQ_BLOCKS, 1, 1, THREADS, ptr(r.x()), n,
                        partial.pointer());
                engine.launch(KernelCatalog.SUM_OF_SQUARES_FINAL, 1, 1, 1, 32, partial.pointer(), SUMSQ_BLOCKS,
                        ptr(r.accumulator()));
                engine.synchronize("sum of squares " + r.x().shape() + " " + t);
            } finally {
                partial.close();
            }
        });
    }

    private static DevicePointer ptr(DeviceTensor t) {
        return ((CudaTensor) t).pointer();
    }
}
