package dev.attn4j.backend.cuda;

import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;
import jcuda.driver.CUdeviceptr;

/** A device allocation of the cuda engine. Closing frees it; closing the engine frees it too. */
final class CudaTensor extends DeviceTensorBase<CUdeviceptr> {
    private final CudaEngine owner;

    CudaTensor(CudaEngine owner, Shape shape, DType dtype, CUdeviceptr pointer) {
        super(Driver.NAME, shape, dtype, pointer);
        this.owner = owner;
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
        return handle();
    }

    /** Closes the tensor and returns its pointer for freeing, or {@code null} when already closed. */
    CUdeviceptr takePointer() {
        return detach();
    }
}
