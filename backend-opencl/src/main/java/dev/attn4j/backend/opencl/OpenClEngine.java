package dev.attn4j.backend.opencl;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.ClosedException;
import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.optim.OptimizerCapabilities;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.random.RandomCapabilities;
import dev.attn4j.ports.random.RandomPort;
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
import dev.attn4j.ports.tensor.TensorFeature;
import dev.attn4j.ports.tensor.TensorPort;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_buffer_region;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalInt;
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
    private final ClGemm gemm;
    private final ClOps ops;
    // The model ports compute in F32; ClHalfModelPorts stores F16/BF16 around them (widen, F32 kernel, round).
    private final LinearPort linear = ClHalfModelPorts.linear(this, new ClLinear(this));
    private final ActivationPort activation = ClHalfModelPorts.activation(this, new ClActivation(this));
    private final ElementwisePort elementwise = ClHalfModelPorts.elementwise(this, new ClElementwise(this));
    private final EmbeddingPort embedding = ClHalfModelPorts.embedding(this, new ClEmbedding(this));
    private final LossPort loss;
    private final OptimizerPort optimizer = ClHalfModelPorts.optimizer(this, new ClOptimizer(this));
    private final RandomPort random = ClHalfModelPorts.random(this, new ClRandom(this));
    private boolean closed;

    private OpenClEngine(ClDevice device, ClGemm.Blocking blocking) {
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
        this.gemm = new ClGemm(this, blocking);
        this.ops = new ClOps(this);
        this.loss = ClHalfModelPorts.loss(this, new ClLoss(this));
        this.capabilities = Capabilities.of(new TensorCapabilities(DTYPES, EnumSet.allOf(TensorFeature.class),
                        viewAlignment(device)),
                new AttentionCapabilities(DTYPES, EnumSet.allOf(AttentionFeature.class), 1, MAX_HEAD_DIM),
                NormCapabilities.all(DTYPES), new RotaryCapabilities(DTYPES),
                new LinearCapabilities(DTYPES), new ActivationCapabilities(DTYPES, EnumSet.allOf(Activation.class)),
                new ElementwiseCapabilities(DTYPES), new EmbeddingCapabilities(DTYPES), new LossCapabilities(DTYPES),
                new OptimizerCapabilities(DTYPES), new RandomCapabilities(DTYPES));
    }

    /**
     * A view's offset, in elements, must put its sub-buffer's origin on the device's base-address alignment
     * ({@code CL_DEVICE_MEM_BASE_ADDR_ALIGN}: 128 bytes on POCL, 512 on NVIDIA's drivers) whatever the dtype, so
     * the alignment is counted in elements of the smallest one (BOOL, one byte): 128 elements on POCL. The domain's
     * parameter store rounds offsets up to it, so it costs padding, never a copy.
     */
    static int viewAlignment(ClDevice device) {
        return device.baseAlignBytes();
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
            ClDevice device = Devices.select(all, options.get("device").orElse(null));
            return new OpenClEngine(device, ClGemm.Blocking.named(options.get("gemm").orElse(null), device));
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
    public LinearPort linear() {
        return linear;
    }

    @Override
    public ActivationPort activation() {
        return activation;
    }

    @Override
    public ElementwisePort elementwise() {
        return elementwise;
    }

    @Override
    public EmbeddingPort embedding() {
        return embedding;
    }

    @Override
    public LossPort loss() {
        return loss;
    }

    @Override
    public OptimizerPort optimizer() {
        return optimizer;
    }

    @Override
    public RandomPort random() {
        return random;
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

    cl_context context() {
        return context;
    }

    /** The GEMM (its packing workspace is the engine's); callers hold the engine's lock. */
    ClGemm gemm() {
        return gemm;
    }

    /** The model ports' small kernels. */
    ClOps ops() {
        return ops;
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

    /**
     * A view of {@code shape} over {@code base}'s elements from {@code elementOffset} (the facade checked range and
     * alignment): a sub-buffer of the root's buffer, attached to {@code base} so that closing it closes the view.
     */
    synchronized ClTensor view(ClTensor base, long elementOffset, Shape shape) {
        requireOpen();
        long origin = Math.addExact(base.byteOffset(), Math.multiplyExact(elementOffset, base.dtype().byteSize()));
        long bytes = Math.max(1, Math.multiplyExact(shape.elementCount(), base.dtype().byteSize()));
        cl_mem sub = clCreateSubBuffer(base.root().buffer(), CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                new cl_buffer_region(origin, bytes), null);
        ClTensor v = new ClTensor(this, shape, base.dtype(), sub, base, origin);
        try {
            base.attach(v);
        } catch (RuntimeException e) {
            clReleaseMemObject(sub);
            throw e;
        }
        return live.register(v);
    }

    /** Releases a tensor's buffer; idempotent, and a no-op once the engine closed (it released them all). */
    synchronized void release(ClTensor t) {
        cl_mem mem = t.takeBuffer();
        if (mem != null && live.release(t)) {
            clReleaseMemObject(mem);
        }
    }

    @Override
    public OptionalInt openTensors() {
        return OptionalInt.of(live.size());
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
        attempt(failures, gemm::close);
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
