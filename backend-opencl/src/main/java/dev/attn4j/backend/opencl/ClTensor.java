package dev.attn4j.backend.opencl;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.jocl.cl_mem;

/** A tensor in one {@code cl_mem} buffer of its engine's context. Closing releases the buffer. */
final class ClTensor implements DeviceTensor {
    private final OpenClEngine owner;
    private final Shape shape;
    private final DType dtype;
    private volatile cl_mem buffer;

    ClTensor(OpenClEngine owner, Shape shape, DType dtype, cl_mem buffer) {
        this.owner = owner;
        this.shape = shape;
        this.dtype = dtype;
        this.buffer = buffer;
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
        return OpenClBackendProvider.NAME;
    }

    @Override
    public boolean isClosed() {
        return buffer == null;
    }

    @Override
    public void close() {
        owner.release(this);
    }

    OpenClEngine owner() {
        return owner;
    }

    /** The buffer; the tensor must be open. */
    cl_mem buffer() {
        cl_mem b = buffer;
        if (b == null) {
            throw new IllegalStateException("tensor " + shape + " is closed");
        }
        return b;
    }

    /** Forgets the buffer and returns it for releasing, or {@code null} when already closed. */
    cl_mem detach() {
        cl_mem b = buffer;
        buffer = null;
        return b;
    }

    /** Element count as an int (the ports cap tensors at {@code Integer.MAX_VALUE} elements). */
    int length() {
        return Math.toIntExact(shape.elementCount());
    }

    @Override
    public String toString() {
        return "ClTensor" + shape + " " + dtype + (isClosed() ? " (closed)" : "");
    }
}
