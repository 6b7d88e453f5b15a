package dev.attn4j.backend.cuda;

import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Launches {@code rotary.cu}: one thread per element of {@code x}, the output in x's dtype. Without a scale
 * table a null pointer is passed, which the kernel reads as ζ = 1.
 */
final class CudaRotary implements RotaryPort {
    /** Threads per block. */
    static final int THREADS = 128;

    private final CudaEngine engine;

    CudaRotary(CudaEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor apply(RotaryRequest r) {
        DeviceTensor x = r.x();
        long count = x.shape().elementCount();
        String kernel = KernelCatalog.rotary(x.dtype());
        return engine.call(() -> {
            CudaTensor y = null;
            try {
                y = engine.allocate(x.shape(), x.dtype());
                if (count > 0) {
                    engine.launch(kernel, Math.toIntExact((count + THREADS - 1) / THREADS), 1, 1, THREADS,
                            arguments(ptr(x), ptr(r.cos()), ptr(r.sin()), r.scale() != null ? ptr(r.scale()) : DevicePointer.NULL,
                                    x.shape().dim(1), x.shape().dim(2), x.shape().dim(3), r.rotaryDim() / 2,
                                    r.layout() == RotaryLayout.SPLIT_HALF, r.inverse(), y.pointer(), count));
                    engine.synchronize(kernel);
                }
                return y;
            } catch (RuntimeException e) {
                CudaEngine.closeAll(y);
                throw e;
            }
        });
    }

    /**
     * The kernel's arguments in its order: x, cos, sin, scale (null = none), S, H, D, pairs, split-half flag,
     * inverse flag, y, element count (a Long: {@code long long} on the device).
     */
    static Object[] arguments(DevicePointer x, DevicePointer cos, DevicePointer sin, DevicePointer scale, int seq, int heads,
                              int dim, int pairs, boolean splitHalf, boolean inverse, DevicePointer y, long count) {
        return new Object[] {x, cos, sin, scale, seq, heads, dim, pairs, splitHalf ? 1 : 0, inverse ? 1 : 0, y, count};
    }

    private static DevicePointer ptr(DeviceTensor t) {
        return ((CudaTensor) t).pointer();
    }
}
