package dev.attn4j.backend.cuda;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import jcuda.driver.CUdeviceptr;

/** A device allocation of the cuda engine. Closing frees it; closing the engine frees it too. */
final class CudaTensor implements DeviceTensor {
    private final CudaEngine owner;
    private final Shape shape;
    private final DType dtype;
    private final CUdeviceptr pointer;
    private volatile boolean closed;

    CudaTensor(CudaEngine owner, Shape shape, DType dtype, CUdeviceptr pointer) {
        this.owner = owner;
        this.shape = shape;
        this.dtype = dtype;
        this.pointer = pointer;
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
        return Driver.NAME;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        owner.free(this);
    }

    CudaEngine owner() {
        return owner;
    }

    /** The device pointer; only valid while open. */
    CUdeviceptr pointer() {
        if (closed) {
            throw new IllegalStateException("tensor " + shape + " is closed");
        }
        return pointer;
    }

    CUdeviceptr rawPointer() {
        return pointer;
    }

    void markClosed() {
        closed = true;
    }

    @Override
    public String toString() {
        return "CudaTensor" + shape + " " + dtype + (closed ? " (closed)" : "");
    }
}
