package dev.attn4j.backend.cpu;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * A tensor on the Java heap: {@code float[]} for F32, {@code int[]} for I32, {@code boolean[]} for BOOL.
 * Kernels read the arrays directly; closing drops them (and the engine's reference).
 */
final class CpuTensor implements DeviceTensor {
    private final CpuEngine owner;
    private final Shape shape;
    private final DType dtype;
    private volatile Object data;

    CpuTensor(CpuEngine owner, Shape shape, DType dtype, Object data) {
        this.owner = owner;
        this.shape = shape;
        this.dtype = dtype;
        this.data = data;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public String backendName() {
        return CpuEngine.NAME;
    }

    @Override
    public boolean isClosed() {
        return data == null;
    }

    @Override
    public void close() {
        if (data != null) {
            data = null;
            owner.release(this);
        }
    }

    CpuEngine owner() {
        return owner;
    }

    float[] floats() {
        return (float[]) live();
    }

    int[] ints() {
        return (int[]) live();
    }

    boolean[] bools() {
        return (boolean[]) live();
    }

    private Object live() {
        Object d = data;
        if (d == null) {
            throw new IllegalStateException("tensor " + shape + " is closed");
        }
        return d;
    }

    /** Called by the engine when it closes: forget the data without calling back. */
    void drop() {
        data = null;
    }

    @Override
    public String toString() {
        return "CpuTensor" + shape + " " + dtype + (isClosed() ? " (closed)" : "");
    }
}
