package dev.attn4j.backend.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * A retained primary context of one device. The driver destroys it (and everything allocated in it) when
 * the last retainer releases it, so open/close cycles return device memory. Driver calls act on the calling
 * thread's current context: every engine call makes this one current first.
 */
final class Context implements AutoCloseable {
    private final int ordinal;
    private final CUdevice device;
    private final CUcontext context;
    private boolean closed;

    private Context(int ordinal, CUdevice device, CUcontext context) {
        this.ordinal = ordinal;
        this.device = device;
        this.context = context;
    }

    /** Initialises the driver and retains device {@code ordinal}'s primary context. */
    static Context open(int ordinal) {
        Driver.check(JCudaDriver.cuInit(0), "cuInit");
        CUdevice device = new CUdevice();
        Driver.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet " + ordinal);
        CUcontext context = new CUcontext();
        Driver.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain " + ordinal);
        Context opened = new Context(ordinal, device, context);
        try {
            opened.makeCurrent();
        } catch (RuntimeException e) {
            opened.close();
            throw e;
        }
        return opened;
    }

    /** Makes the context current on the calling thread. */
    void makeCurrent() {
        Driver.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Waits for every launched kernel; a kernel's failure surfaces here with its CUDA error name. */
    void synchronize(String what) {
        Driver.check(JCudaDriver.cuCtxSynchronize(), what);
    }

    int ordinal() {
        return ordinal;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            JCudaDriver.cuCtxSetCurrent(new CUcontext());
            Driver.check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease " + ordinal);
        }
    }
}
