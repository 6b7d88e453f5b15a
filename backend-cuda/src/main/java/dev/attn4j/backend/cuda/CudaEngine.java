package dev.attn4j.backend.cuda;

import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.ClosedException;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.spi.TensorRegistry;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;
import jcuda.Pointer;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The cuda engine: one device's primary context, the loaded kernels, and every allocation it made (all
 * freed on {@link #close()}). Calls are serialised on the engine and run with its context current on the
 * calling thread; each op waits for its kernels, so a failure is reported by the op that caused it.
 */
final class CudaEngine implements BackendEngine {

    /** What the kernels implement; nothing else is declared. */
    static final Capabilities CAPABILITIES = capabilities(EnumSet.of(DType.F32, DType.F16, DType.BF16));

    private static Capabilities capabilities(Set<DType> dtypes) {
        // Every attention feature but the BHSD layout (the kernels index [B, S, H, D] only), DETERMINISTIC_BACKWARD
        // included: no atomics anywhere, and every sum runs in a fixed order, so backward is bit-identical run to run.
        return Capabilities.of(TensorCapabilities.transfers(dtypes),
                new AttentionCapabilities(dtypes, EnumSet.complementOf(EnumSet.of(AttentionFeature.BHSD_LAYOUT)), 1,
                        KernelCatalog.maxHeadDim()),
                NormCapabilities.all(dtypes), new RotaryCapabilities(dtypes));
    }

    private final Context context;
    private final Kernels kernels;
    /** Dynamic shared memory of each tensor-core kernel; empty unless tensor cores were asked for. */
    private final Map<String, Integer> tensorCoreSharedBytes;
    private final List<String> devices;
    private final TensorRegistry<CudaTensor> live = new TensorRegistry<>();
    private final TensorPort tensors = new CudaTensors(this);
    private final AttentionPort attention = new CudaAttention(this);
    private final NormalizationPort normalization = new CudaNormalization(this);
    private final RotaryPort rotary = new CudaRotary(this);
    private boolean closed;

    CudaEngine(int ordinal, boolean tensorCores) {
        this.context = Context.open(ordinal);
        Kernels loaded = null;
        try {
            loaded = Kernels.load(context);
            this.kernels = loaded;
            this.tensorCoreSharedBytes = tensorCores ? configureTensorCores(ordinal) : Map.of();
            this.devices = List.of(Driver.describe(ordinal) + (tensorCores ? ", tensor-core forward" : ""));
        } catch (RuntimeException e) {
            if (loaded != null) {
                loaded.close();
            }
            context.close();
            throw e;
        }
    }

    /**
     * Asks each tensor-core kernel for its dynamic shared memory (one source of truth: the kernel's own
     * layout), checks the device allows it and opts the kernel in to that much.
     */
    private Map<String, Integer> configureTensorCores(int ordinal) {
        int optIn = Driver.deviceAttribute(ordinal, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        Map<String, Integer> bytes = new HashMap<>();
        CUdeviceptr answer = new CUdeviceptr();
        Driver.check(JCudaDriver.cuMemAlloc(answer, Integer.BYTES), "cuMemAlloc 4 bytes");
        try {
            for (DType t : KernelCatalog.TENSOR_CORE_DTYPES) {
                for (int bucket : KernelCatalog.TENSOR_CORE_BUCKETS) {
                    String kernel = KernelCatalog.tensorCoreForward(t, bucket);
                    kernels.launch(KernelCatalog.tensorCoreSharedBytes(t, bucket), 1, 1, 1, 1, answer);
                    context.synchronize(KernelCatalog.tensorCoreSharedBytes(t, bucket));
                    int[] value = new int[1];
                    Driver.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(value), answer, Integer.BYTES), "cuMemcpyDtoH 4 bytes");
                    if (value[0] > optIn) {
                        throw new Attn4jException("backend 'cuda': option tensorCores=true needs " + value[0]
                                + " bytes of shared memory per block for " + kernel + ", the device allows " + optIn);
                    }
                    Driver.check(JCudaDriver.cuFuncSetAttribute(kernels.function(kernel),
                            CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, value[0]),
                            "cuFuncSetAttribute " + kernel + " dynamic shared memory " + value[0]);
                    bytes.put(kernel, value[0]);
                }
            }
        } finally {
            JCudaDriver.cuMemFree(answer);
        }
        return Map.copyOf(bytes);
    }

    /** Dynamic shared memory of tensor-core kernel {@code kernel}, or -1 when tensor cores are off. */
    int tensorCoreSharedBytes(String kernel) {
        return tensorCoreSharedBytes.getOrDefault(kernel, -1);
    }

    /** Whether the tensor-core forward was asked for (backend option {@code tensorCores=true}). */
    boolean tensorCores() {
        return !tensorCoreSharedBytes.isEmpty();
    }

    @Override
    public String name() {
        return Driver.NAME;
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<String> devices() {
        return devices;
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
        return tensor instanceof CudaTensor t && t.owner() == this;
    }

    /** Runs {@code work} with the engine's context current, one call at a time. */
    synchronized <R> R call(Supplier<R> work) {
        if (closed) {
            // A call that waited for the engine's lock while another thread closed it (issue 13 item 5).
            throw new ClosedException("the cuda backend was closed before this call could run");
        }
        context.makeCurrent();
        return work.get();
    }

    Kernels kernels() {
        return kernels;
    }

    /** Waits for the launched kernels of {@code op}. */
    void synchronize(String op) {
        context.synchronize(op);
    }

    /** A new uninitialised device tensor (called inside {@link #call}). */
    CudaTensor allocate(Shape shape, DType dtype) {
        long bytes = shape.elementCount() * dtype.byteSize();
        CUdeviceptr pointer = new CUdeviceptr();
        Driver.check(JCudaDriver.cuMemAlloc(pointer, bytes), "cuMemAlloc " + bytes + " bytes for " + shape + " " + dtype);
        CudaTensor tensor = new CudaTensor(this, shape, dtype, pointer);
        return live.register(tensor);
    }

    /** Frees {@code tensor} unless it is already closed. Idempotent; a no-op once the engine is closed. */
    synchronized void free(CudaTensor tensor) {
        CUdeviceptr pointer = tensor.takePointer();
        if (pointer == null) {
            return;
        }
        if (live.release(tensor) && !closed) {
            context.makeCurrent();
            Driver.check(JCudaDriver.cuMemFree(pointer), "cuMemFree " + tensor.shape());
        }
    }

    /** Closes every tensor in {@code tensors} (nulls skipped), for clean-up after a failed op. */
    static void closeAll(DeviceTensor... tensors) {
        for (DeviceTensor t : tensors) {
            if (t != null) {
                try {
                    t.close();
                } catch (RuntimeException suppressed) {
                    // the op's own failure is the one to report
                }
            }
        }
    }

    /** How many tensors are still allocated (for tests). */
    synchronized int liveTensors() {
        return live.size();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            context.makeCurrent();
            live.closeAll(t -> {
                CUdeviceptr pointer = t.takePointer();
                if (pointer != null) {
                    JCudaDriver.cuMemFree(pointer);
                }
            });
            kernels.close();
        } finally {
            closed = true;
            context.close();
        }
    }
}
