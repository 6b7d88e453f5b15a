package dev.attn4j.backend.opencl;

import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;
import org.jocl.cl_mem;

/** A tensor in one {@code cl_mem} buffer of its engine's context. Closing releases the buffer. */
final class ClTensor extends DeviceTensorBase<cl_mem> {
    private final OpenClEngine owner;

    ClTensor(OpenClEngine owner, Shape shape, DType dtype, cl_mem buffer) {
        super(OpenClBackendProvider.NAME, shape, dtype, buffer);
        this.owner = owner;
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
        return handle();
    }

    /** Closes the tensor and returns its buffer for releasing, or {@code null} when already closed. */
    cl_mem takeBuffer() {
        return detach();
    }

    /** Element count as an int (the ports cap tensors at {@code Integer.MAX_VALUE} elements). */
    int length() {
        return Math.toIntExact(shape().elementCount());
    }
}
