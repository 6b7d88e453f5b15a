package dev.attn4j.backend.cpu;

import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

/**
 * A tensor on the Java heap: {@code float[]} for F32, {@code short[]} bits for F16 and BF16, {@code int[]}
 * for I32, {@code boolean[]} for BOOL. Kernels read F32 arrays directly (16-bit tensors are widened around
 * them by the ports' {@code HalfPrecisionPorts}, with {@link HalfConversions}'s conversions); closing drops the array (and the engine's reference).
 */
final class CpuTensor extends DeviceTensorBase<Object> {
    private final CpuEngine owner;

    CpuTensor(CpuEngine owner, Shape shape, DType dtype, Object data) {
        super(CpuEngine.NAME, shape, dtype, data);
        this.owner = owner;
    }

    @Override
    public void close() {
        if (detach() != null) {
            owner.release(this);
        }
    }

    CpuEngine owner() {
        return owner;
    }

    float[] floats() {
        return (float[]) handle();
    }

    short[] halves() {
        return (short[]) handle();
    }

    int[] ints() {
        return (int[]) handle();
    }

    boolean[] bools() {
        return (boolean[]) handle();
    }

    /** Called by the engine when it closes: forget the data without calling back. */
    void drop() {
        detach();
    }
}
