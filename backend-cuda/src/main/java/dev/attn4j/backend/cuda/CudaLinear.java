package dev.attn4j.backend.cuda;

import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Linear layers and matrix products on cuBLAS ({@code cublasGemmEx}, {@code cublasGemmStridedBatchedEx}; fp32
 * accumulation, tensor cores for F16/BF16). Every product is planned by {@link #forwardGemms},
 * {@link #backwardGemms} or {@link #matmulGemm} — pure functions of the request's sizes and pointers, which the tests
 * replay through a reference column-major GEMM without a GPU — then issued in order.
 *
 * <p>Forward: with a bias, {@code y} is first filled with the bias broadcast over rows ({@code broadcast_rows}) and
 * the GEMM adds into it ({@code beta = 1}), so {@code x·Wᵀ + b} is rounded once. Backward: {@code dx = dy·W},
 * {@code dW += dyᵀ·x} (or {@code xᵀ·dy} for {@code [in, out]} weights) with {@code beta = 1}, and
 * {@code db += Σ_rows dy} by {@link ColumnSums}. cuBLAS is deterministic for a given device and size, and no step
 * uses atomics.
 */
final class CudaLinear implements LinearPort {
    /** Threads per block of the bias broadcast ({@code TENSOR_THREADS} in tensor.cu). */
    static final int THREADS = CudaTensors.THREADS;

    private final CudaEngine engine;

    CudaLinear(CudaEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor forward(LinearRequest r) {
        DType t = r.x().dtype();
        int rows = Math.toIntExact(r.rows());
        int out = r.outFeatures();
        return engine.call(() -> {
            CudaTensor y = null;
            try {
                y = engine.allocate(r.outputShape(), t);
                if (r.bias() != null) {
                    String kernel = KernelCatalog.broadcastRows(t, t);
                    engine.launchItems(kernel, (long) rows * out, THREADS, ptr(r.bias()), y.pointer(), (long) rows, out);
                }
                engine.gemm(forwardGemms(r, ptr(r.x()), ptr(r.weight()), y.pointer()));
                engine.synchronize("linear forward " + r.x().shape() + " " + t);
                return y;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(y);
                throw e;
            }
        });
    }

    /** {@code y [rows, out] = x [rows, in]·op(W) + beta·y}, {@code beta = 1} when a bias was broadcast into y. */
    static GemmCall forwardGemms(LinearRequest r, DevicePointer x, DevicePointer w, DevicePointer y) {
        int rows = Math.toIntExact(r.rows());
        int in = r.inFeatures();
        int out = r.outFeatures();
        boolean outIn = r.layout() == WeightLayout.OUT_IN;
        DType t = r.x().dtype();
        // OUT_IN stores W [out, in]: op(W) = Wᵀ; IN_OUT stores [in, out]: op(W) = W
        return GemmCall.rowMajor(rows, out, in, 1f, x, false, in, 0, w, outIn, outIn ? in : out, 0,
                r.bias() != null ? 1f : 0f, y, out, 0, 1, t, t);
    }

    @Override
    public DeviceTensor backward(LinearBackwardRequest b) {
        LinearRequest r = b.forward();
        DType t = r.x().dtype();
        int rows = Math.toIntExact(r.rows());
        int out = r.outFeatures();
        if (b.weightGrad() != null) {
            for (var read : List.of(r.x(), r.weight(), b.dy())) {
                CudaEngine.requireApart("weightGrad", b.weightGrad(), "an input", read, false);
            }
        }
        if (b.biasGrad() != null) {
            for (var read : List.of(r.x(), r.weight(), b.dy(), r.bias())) {
                CudaEngine.requireApart("biasGrad", b.biasGrad(), "an input", read, false);
            }
            if (b.weightGrad() != null) {
                CudaEngine.requireApart("biasGrad", b.biasGrad(), "weightGrad", b.weightGrad(), false);
            }
        }
        return engine.call(() -> {
            CudaTensor dx = null;
            try {
                dx = b.inputGrad() ? engine.allocate(r.x().shape(), t) : null;
                for (GemmCall g : backwardGemms(b, ptr(r.x()), ptr(r.weight()), ptr(b.dy()),
                        dx != null ? dx.pointer() : null, b.weightGrad() != null ? ptr(b.weightGrad()) : null)) {
                    engine.gemm(g);
                }
                if (b.biasGrad() != null) {
                    ColumnSums.accumulate(engine, t, ptr(b.dy()), null, rows, out, t, ptr(b.biasGrad()));
                }
                engine.synchronize("linear backward " + r.x().shape() + " " + t);
                return dx;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(dx);
                throw e;
            }
        });
    }

    /**
     * The backward's GEMMs: {@code dx [rows, in] = dy [rows, out]·op'(W)} when {@code dx} is given, then
     * {@code dW += dyᵀ·x} ({@code [out, in]}) or {@code xᵀ·dy} ({@code [in, out]}) when {@code dW} is given.
     */
    static List<GemmCall> backwardGemms(LinearBackwardRequest b, DevicePointer x, DevicePointer w, DevicePointer dy,
                                        DevicePointer dx, DevicePointer dW) {
        LinearRequest r = b.forward();
        int rows = Math.toIntExact(r.rows());
        int in = r.inFeatures();
        int out = r.outFeatures();
        boolean outIn = r.layout() == WeightLayout.OUT_IN;
        DType t = r.x().dtype();
        List<GemmCall> gemms = new ArrayList<>();
        if (dx != null) {
            // OUT_IN: dy·W with W [out, in] as stored; IN_OUT: dy·Wᵀ with W [in, out]
            gemms.add(GemmCall.rowMajor(rows, in, out, 1f, dy, false, out, 0, w, !outIn, outIn ? in : out, 0, 0f, dx,
                    in, 0, 1, t, t));
        }
        if (dW != null) {
            gemms.add(outIn
                    ? GemmCall.rowMajor(out, in, rows, 1f, dy, true, out, 0, x, false, in, 0, 1f, dW, in, 0, 1, t, t)
                    : GemmCall.rowMajor(in, out, rows, 1f, x, true, in, 0, dy, false, out, 0, 1f, dW, out, 0, 1, t, t));
        }
        return gemms;
    }

    @Override
    public void matmul(MatmulRequest r) {
        CudaEngine.requireApart("c", r.c(), "a", r.a(), false);
        CudaEngine.requireApart("c", r.c(), "b", r.b(), false);
        engine.run(() -> {
            engine.gemm(matmulGemm(r, ptr(r.a()), ptr(r.b()), ptr(r.c())));
            engine.synchronize("matmul " + r.m() + "x" + r.n() + "x" + r.k() + " batch " + r.batch());
        });
    }

    /**
     * One (strided-batched) GEMM: each operand's stored row length is its last dimension, its batch stride its
     * matrix size, or 0 when its batch is 1 and shared by every product.
     */
    static GemmCall matmulGemm(MatmulRequest r, DevicePointer a, DevicePointer b, DevicePointer c) {
        DType t = r.c().dtype();
        boolean batched = r.c().shape().rank() == 3;
        long aStride = batched && !MatmulRequest.shared(r.a()) ? matrix(r.a()) : 0;
        long bStride = batched && !MatmulRequest.shared(r.b()) ? matrix(r.b()) : 0;
        long cStride = batched ? matrix(r.c()) : 0;
        return GemmCall.rowMajor(r.m(), r.n(), r.k(), r.alpha(), a, r.transposeA(), r.a().shape().dim(-1), aStride, b,
                r.transposeB(), r.b().shape().dim(-1), bStride, r.beta(), c, r.n(), cStride, r.batch(), t, t);
    }

    private static long matrix(DeviceTensor t) {
        return (long) t.shape().dim(-2) * t.shape().dim(-1);
    }

    private static DevicePointer ptr(DeviceTensor t) {
        return ((CudaTensor) t).pointer();
    }
}
