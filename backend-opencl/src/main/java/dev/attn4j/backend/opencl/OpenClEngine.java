package dev.attn4j.backend.opencl;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.ClosedException;
import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.HalfPrecisionPorts;
import dev.attn4j.ports.spi.TensorRegistry;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorPort;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.jocl.CL.*;

/**
 * The OpenCL engine: one context and one in-order queue on one device, the programs built for it, and every
 * buffer it handed out. Calls are serialised on the engine (kernels are shared objects whose arguments are
 * set before each launch); downloads block, so results are complete when a call returns.
 *
 * <p><b>Closing under load.</b> Closing the engine, and closing one of its tensors, take the same lock, so
 * neither can pull a buffer from under a running call: a close waits for the call in progress to finish. A
 * call that was waiting for the lock when the engine closed fails with {@link ClosedException}; one whose
 * tensor was closed while it waited fails with {@link ClosedException} naming the tensor. No call hangs, and
 * none sees released OpenCL objects.
 */
final class OpenClEngine implements BackendEngine {
    private static final Set<DType> DTYPES = EnumSet.of(DType.F32, DType.F16, DType.BF16);
    /** Largest head dimension: each work-item keeps up to four rows of this length in private memory. */
    static final int MAX_HEAD_DIM = 256;

    private final ClDevice device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final Programs programs;
    private final TensorRegistry<ClTensor> live = new TensorRegistry<>();
    private final cl_mem placeholder;
    private final Capabilities capabilities;
    private final ClTensors tensors = new ClTensors(this);
    // A 16-bit call holds the engine's lock throughout, as every OpenCL call does, so its conversions and
    // kernels are queued together.
    private final ClHalfPrecision half = new ClHalfPrecision(this);
    private final AttentionPort attention = HalfPrecisionPorts.attention(half, this, new ClAttention(this));
    private final NormalizationPort normalization = HalfPrecisionPorts.normalization(half, this, new ClNormalization(this));
    private final RotaryPort rotary = HalfPrecisionPorts.rotary(half, this, new ClRotary(this));
    private boolean closed;

    private OpenClEngine(ClDevice device) {
        this.device = device;
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, device.platform());
        this.context = clCreateContext(props, 1, new cl_device_id[] {device.id()}, null, null, null);
        cl_command_queue q = null;
        cl_mem spare = null;
        try {
            q = createQueue(context, device.id());
            spare = clCreateBuffer(context, CL_MEM_READ_WRITE, Sizeof.cl_float, null, null);
        } catch (RuntimeException e) {
            // Nothing half-opened survives a failed open.
            if (q != null) clReleaseCommandQueue(q);
            clReleaseContext(context);
            throw e;
        }
        this.queue = q;
        this.placeholder = spare;
        this.programs = new Programs(context, device.id());
        this.capabilities = Capabilities.of(TensorCapabilities.transfers(DTYPES),
                new AttentionCapabilities(DTYPES, EnumSet.allOf(AttentionFeature.class), 1, MAX_HEAD_DIM),
                NormCapabilities.all(DTYPES), new RotaryCapabilities(DTYPES));
    }

    /** An in-order queue: the OpenCL 2.0 entry point, or the 1.x one on drivers that lack it. */
    private static cl_command_queue createQueue(cl_context context, cl_device_id id) {
        try {
            return clCreateCommandQueueWithProperties(context, id, null, null);
        } catch (RuntimeException | LinkageError e) {
            @SuppressWarnings("deprecation")
            cl_command_queue legacy = clCreateCommandQueue(context, id, 0, null);
            return legacy;
        }
    }

    /** Opens the device that {@code options}' {@code device} names, or the preferred one. */
    static OpenClEngine open(BackendOptions options) {
        try {
            List<ClDevice> all = Devices.discover();
            if (all.isEmpty()) {
                throw new DeviceException(OpenClBackendProvider.NAME, "CL_DEVICE_NOT_FOUND", "no OpenCL device");
            }
            return new OpenClEngine(Devices.select(all, options.get("device").orElse(null)));
        } catch (CLException e) {
            throw deviceError(e, "opening the OpenCL device");
        }
    }

    static DeviceException deviceError(CLException e, String doing) {
        return new DeviceException(OpenClBackendProvider.NAME, CL.stringFor_errorCode(e.getStatus()), doing);
    }

    @Override
    public String name() {
        return OpenClBackendProvider.NAME;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public List<String> devices() {
        return List.of(device.describe());
    }

    @Override
    public TensorPort tensors() {
        return tensors;
    }

    @Override
    public AttentionPort attention() {
        return attention;
    }

    @Override
    public NormalizationPort normalization() {
        return normalization;
    }

    @Override
    public RotaryPort rotary() {
        return rotary;
    }

    @Override
    public boolean owns(DeviceTensor tensor) {
        return tensor instanceof ClTensor t && t.owner() == this;
    }

    ClDevice device() {
        return device;
    }

    cl_command_queue queue() {
        return queue;
    }

    /** A buffer for kernel arguments a call leaves unused (OpenCL has no portable null buffer). */
    cl_mem placeholder() {
        return placeholder;
    }

    cl_kernel kernel(String source, String options, String name) {
        return programs.kernel(source, options, name);
    }

    /** The largest work-group {@code kernel} can run with on this device. */
    long kernelWorkGroupSize(cl_kernel kernel) {
        long[] size = new long[1];
        clGetKernelWorkGroupInfo(kernel, device.id(), CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(size), null);
        return size[0];
    }

    /** A new uninitialised tensor. */
    synchronized ClTensor allocate(Shape shape, DType dtype) {
        return allocate(shape, dtype, CL_MEM_READ_WRITE, null);
    }

    /** A new tensor; with {@code host} non-null the buffer is created as a copy of it. */
    synchronized ClTensor allocate(Shape shape, DType dtype, long flags, Pointer host) {
        requireOpen();
        long bytes = Math.max(1, shape.elementCount() * dtype.byteSize());
        cl_mem mem = clCreateBuffer(context, flags, bytes, host, null);
        ClTensor t = new ClTensor(this, shape, dtype, mem);
        return live.register(t);
    }

    /** Releases a tensor's buffer; idempotent, and a no-op once the engine closed (it released them all). */
    synchronized void release(ClTensor t) {
        cl_mem mem = t.takeBuffer();
        if (mem != null && live.release(t)) {
            clReleaseMemObject(mem);
        }
    }

    /** Buffers handed out and not yet released (for leak tests). */
    synchronized int liveBuffers() {
        return live.size();
    }

    /** Programs and kernels alive (for leak tests): {@code [programs, kernels]}. */
    synchronized int[] liveCode() {
        return new int[] {programs.programCount(), programs.kernelCount()};
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Throws {@link ClosedException} once the engine is closed. Every call checks it after taking the engine's
     * lock: a call that passed the ports' checks and then waited for the lock while another thread closed the
     * backend fails here, with a clear error, instead of touching released objects.
     */
    void requireOpen() {
        if (closed) {
            throw new ClosedException("the opencl backend was closed before this call could run");
        }
    }

    /**
     * Releases every buffer, kernel and program, then the queue and the context. Every release is attempted
     * even when one fails; the first failure is thrown at the end.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<RuntimeException> failures = new ArrayList<>();
        attempt(failures, () -> clFinish(queue));
        attempt(failures, () -> live.closeAll(t -> {
            cl_mem mem = t.takeBuffer();
            if (mem != null) {
                clReleaseMemObject(mem);
            }
        }));
        attempt(failures, () -> clReleaseMemObject(placeholder));
        attempt(failures, programs::close);
        attempt(failures, () -> clReleaseCommandQueue(queue));
        attempt(failures, () -> clReleaseContext(context));
        if (!failures.isEmpty()) {
            RuntimeException first = failures.getFirst();
            throw first instanceof CLException e ? deviceError(e, "releasing OpenCL objects") : first;
        }
    }

    private static void attempt(List<RuntimeException> failures, Runnable release) {
        try {
            release.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }
}
