package dev.attn4j.ports.fake;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/** A tensor of {@link HeapEngine}: plain Java arrays, no rounding for F16/BF16 (the fake computes nothing). */
final class HeapTensor implements DeviceTensor {
    final HeapEngine owner;
    private final Shape shape;
    private final DType dtype;
    final float[] floats;
    final int[] ints;
    final boolean[] bools;
    private boolean closed;

    HeapTensor(HeapEngine owner, Shape shape, DType dtype, float[] floats, int[] ints, boolean[] bools) {
        this.owner = owner;
        this.shape = shape;
        this.dtype = dtype;
        this.floats = floats;
        this.ints = ints;
        this.bools = bools;
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
        return owner.name();
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.released(this);
        }
    }
}
