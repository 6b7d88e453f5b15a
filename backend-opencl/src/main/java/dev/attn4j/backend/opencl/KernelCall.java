package dev.attn4j.backend.opencl;

import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clSetKernelArg;

/**
 * Sets a kernel's arguments in order and enqueues it. Kernels are shared per engine, so a call must hold
 * the engine's lock from the first argument to the enqueue.
 *
 * <pre>{@code
 * new KernelCall(kernel).mem(x.buffer()).i(rows).f(eps).run(queue, new long[] {rows * wg}, new long[] {wg});
 * }</pre>
 */
final class KernelCall {
    private final cl_kernel kernel;
    private int index;

    KernelCall(cl_kernel kernel) {
        this.kernel = kernel;
    }

    KernelCall mem(cl_mem buffer) {
        clSetKernelArg(kernel, index++, Sizeof.cl_mem, Pointer.to(buffer));
        return this;
    }

    KernelCall i(int value) {
        clSetKernelArg(kernel, index++, Sizeof.cl_int, Pointer.to(new int[] {value}));
        return this;
    }

    KernelCall l(long value) {
        clSetKernelArg(kernel, index++, Sizeof.cl_long, Pointer.to(new long[] {value}));
        return this;
    }

    KernelCall f(float value) {
        clSetKernelArg(kernel, index++, Sizeof.cl_float, Pointer.to(new float[] {value}));
        return this;
    }

    void run(cl_command_queue queue, long[] global, long[] local) {
        clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, null);
    }
}
