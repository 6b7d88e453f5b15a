package dev.attn4j.backend.cuda;

import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * Launches {@code activation.cu}: one grid-stride kernel per call, the function passed as a code. Each call writes
 * a new tensor whole. A GLU's kernels take the value, the gate's input (and the two gradients) as separate pointers
 * with a row stride, so both forms of {@link GluRequest} run the same kernels.
 */
final class CudaActivation implements ActivationPort {
    /** Threads per block ({@code ACT_THREADS} in activation.cu). */
    static final int THREADS = 256;

    private final CudaEngine engine;

    CudaActivation(CudaEngine engine) {
        this.engine = engine;
    }

    /** The kernels' function code (activation.cu's switch), by name rather than ordinal so a reorder cannot shift it. */
    static int code(Activation f) {
        return switch (f) {
            case GELU -> 0;
            case GELU_TANH -> 1;
            case SILU -> 2;
            case RELU -> 3;
        };
    }

    @Override
    public DeviceTensor forward(ActivationRequest r) {
        DeviceTensor x = r.x();
        long n = x.shape().elementCount();
        return output(x.shape(), x.dtype(), KernelCatalog.activationForward(x.dtype()), n,
                y -> new Object[] {ptr(x), y, n, code(r.function())});
    }

    @Override
    public DeviceTensor backward(ActivationBackwardRequest b) {
        DeviceTensor x = b.forward().x();
        long n = x.shape().elementCount();
        return output(x.shape(), x.dtype(), KernelCatalog.activationBackward(x.dtype()), n,
                dx -> new Object[] {ptr(x), ptr(b.dy()), dx, n, code(b.forward().function())});
    }

    @Override
    public DeviceTensor glu(GluRequest r) {
        DeviceTensor x = r.x();
        int half = r.halfWidth();
        long rows = r.rows();
        return output(r.outputShape(), x.dtype(), KernelCatalog.gluForward(x.dtype()), rows * half,
                y -> new Object[] {ptr(x), gate(r), y, rows, half, r.rowStride(), code(r.gate())});
    }

    @Override
    public DeviceTensor gluBackward(GluBackwardRequest b) {
        GluRequest r = b.forward();
        DeviceTensor x = r.x();
        int half = r.halfWidth();
        long rows = r.rows();
        return output(r.gradientShape(), x.dtype(), KernelCatalog.gluBackward(x.dtype()), rows * half,
                dx -> new Object[] {ptr(x), gate(r), ptr(b.dy()), dx, at(dx, r.gradientGateOffset(), x.dtype()), rows,
                        half, r.rowStride(), code(r.gate())});
    }

    /** The gate's input, {@link GluRequest#gateOffset()} into {@link GluRequest#gateTensor()}. */
    private static DevicePointer gate(GluRequest r) {
        return at(ptr(r.gateTensor()), r.gateOffset(), r.x().dtype());
    }

    /** {@code p} moved on by {@code elements} of {@code dtype}. */
    private static DevicePointer at(DevicePointer p, long elements, DType dtype) {
        return p.plus(Math.multiplyExact(elements, (long) dtype.byteSize()));
    }

    /** A new tensor written by one launch of {@code kernel} over {@code items}; {@code args} given its pointer. */
    private DeviceTensor output(Shape shape, DType dtype, String kernel, long items,
                                java.util.function.Function<DevicePointer, Object[]> args) {
        return engine.call(() -> {
            CudaTensor y = null;
            try {
                y = engine.allocate(shape, dtype);
                engine.launchItems(kernel, items, THREADS, args.apply(y.pointer()));
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
