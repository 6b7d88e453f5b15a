package dev.attn4j.backend.cuda;

import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Launches {@code elementwise.cu}. In-place ops ({@code axpy}, {@code scale}) read each element before writing it,
 * so {@code axpy}'s {@code x} may be {@code y} itself, but not a view partly overlapping it. The broadcast
 * multiply's vector gradient is a fixed-order row sum per block ({@link BroadcastAxis#ROWS}) or a
 * {@link ColumnSums} ({@link BroadcastAxis#COLUMNS}), added into the accumulator once.
 */
final class CudaElementwise implements ElementwisePort {
    /** Threads per block of the element loops ({@code EW_THREADS} in elementwise.cu). */
    static final int THREADS = 256;
    /** Threads per block of the row sums ({@code EW_ROW_THREADS}). */
    static final int ROW_THREADS = 256;

    private final CudaEngine engine;

    CudaElementwise(CudaEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor add(AddRequest r) {
        long n = r.a().shape().elementCount();
        DType t = r.a().dtype();
        return engine.call(() -> {
            CudaTensor y = null;
            try {
                y = engine.allocate(r.a().shape(), t);
                String kernel = KernelCatalog.add(t);
                engine.launchItems(kernel, n, THREADS, ptr(r.a()), ptr(r.b()), r.alpha(), y.pointer(), n);
                engine.synchronize(kernel);
                return y;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(y);
                throw e;
            }
        });
    }

    @Override
    public void axpy(AxpyRequest r) {
        CudaEngine.requireApart("y", r.y(), "x", r.x(), true);
        long n = r.x().shape().elementCount();
        String kernel = KernelCatalog.axpy(r.x().dtype());
        engine.run(() -> {
            engine.launchItems(kernel, n, THREADS, r.alpha(), ptr(r.x()), ptr(r.y()), n);
            engine.synchronize(kernel);
        });
    }

    @Override
    public void scale(ScaleRequest r) {
        long n = r.x().shape().elementCount();
        String kernel = KernelCatalog.scale(r.x().dtype());
        engine.run(() -> {
            engine.launchItems(kernel, n, THREADS, ptr(r.x()), r.alpha(), n);
            engine.synchronize(kernel);
        });
    }

    @Override
    public DeviceTensor multiply(BroadcastMultiplyRequest r) {
        return multiply(r.x(), r.v(), r.axis());
    }

    /** A new {@code x ⊙ v} with v broadcast along {@code axis}. */
    private DeviceTensor multiply(DeviceTensor x, DeviceTensor v, BroadcastAxis axis) {
        long n = x.shape().elementCount();
        int cols = x.shape().dim(-1);
        DType t = x.dtype();
        return engine.call(() -> {
            CudaTensor y = null;
            try {
                y = engine.allocate(x.shape(), t);
                String kernel = KernelCatalog.broadcastMultiply(t);
                engine.launchItems(kernel, n, THREADS, ptr(x), ptr(v), y.pointer(), n, cols,
                        axis == BroadcastAxis.ROWS ? 1 : 0);
                engine.synchronize(kernel);
                return y;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(y);
                throw e;
            }
        });
    }

    @Override
    public DeviceTensor multiplyBackward(BroadcastMultiplyBackwardRequest b) {
        BroadcastMultiplyRequest f = b.forward();
        DeviceTensor grad = b.vectorGrad();
        if (grad != null) {
            CudaEngine.requireApart("vectorGrad", grad, "x", f.x(), false);
            CudaEngine.requireApart("vectorGrad", grad, "dy", b.dy(), false);
            CudaEngine.requireApart("vectorGrad", grad, "v", f.v(), false);
        }
        DeviceTensor dx = b.inputGrad() ? multiply(b.dy(), f.v(), f.axis()) : null;
        if (grad == null) {
            return dx;
        }
        int cols = f.x().shape().dim(-1);
        long rows = f.x().shape().elementCount() / cols;
        DType t = f.x().dtype();
        try {
            engine.run(() -> {
                if (f.axis() == BroadcastAxis.COLUMNS) {
                    ColumnSums.accumulate(engine, t, ptr(f.x()), ptr(b.dy()), rows, cols, t, ptr(grad));
                } else {
                    engine.launch(KernelCatalog.rowDot(t), Math.toIntExact(rows), 1, 1, ROW_THREADS, ptr(f.x()),
                            ptr(b.dy()), ptr(grad), cols);
                }
                engine.synchronize("broadcast multiply backward " + f.axis());
            });
            return dx;
        } catch (RuntimeException e) {
            CudaEngine.closeAll(dx);
            throw e;
        }
    }

    @Override
    public DeviceTensor shiftTokens(TokenShiftRequest r) {
        DeviceTensor x = r.x();
        long n = x.shape().elementCount();
        DType t = x.dtype();
        return engine.call(() -> {
            CudaTensor y = null;
            try {
                y = engine.allocate(x.shape(), t);
                String kernel = KernelCatalog.tokenShift(t);
                engine.launchItems(kernel, n, THREADS, ptr(x), y.pointer(),
                        r.segments() != null ? ptr(r.segments()) : DevicePointer.NULL, r.segments() != null ? 1 : 0,
                        x.shape().dim(1), x.shape().dim(2), r.begin(), r.count(), r.amount(), n);
                engine.synchronize(kernel);
                return y;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(y);
                throw e;
            }
        });
    }

    private static DevicePointer ptr(DeviceTensor t) {
        return ((CudaTensor) t).pointer();
    }
}
