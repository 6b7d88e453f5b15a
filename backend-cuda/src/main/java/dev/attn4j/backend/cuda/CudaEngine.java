package dev.attn4j.backend.cuda;

import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.ClosedException;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.optim.OptimizerCapabilities;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.random.RandomCapabilities;
import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.TensorRegistry;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorFeature;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The cuda engine: one device ({@link Gpu}: context, kernels, cuBLAS), and every tensor it made (all freed on
 * {@link #close()}). Calls are serialised on the engine and run with the context current on the calling thread;
 * each op waits for its kernels, so a failure is reported by the op that caused it.
 *
 * <p>Every port is provided, for F32, F16 and BF16 storage (fp32 arithmetic): attention, normalisation, rotary,
 * activation, element-wise, embedding, optimizer, random, the tensor port's view/copy/cast/fill, and — where cuBLAS
 * could be initialised ({@link Gpu#blasProblem()}) — linear and the fused cross-entropy, which run their GEMMs
 * there.
 */
final class CudaEngine implements BackendEngine {

    /** Floating storage types every port takes. */
    static final Set<DType> DTYPES = EnumSet.of(DType.F32, DType.F16, DType.BF16);
    /** The most blocks a grid-stride launch uses (each thread then loops): enough to fill any current GPU. */
    static final int MAX_GRID_BLOCKS = 8192;

    /**
     * What the kernels implement, nothing else: every port for {@link #DTYPES}, attention without the BHSD layout
     * (the kernels index [B, S, H, D] only) and with DETERMINISTIC_BACKWARD (no atomics anywhere, every sum in a
     * fixed order), views aligned to one element (a device pointer plus an offset: kernels read element by element
     * and cuBLAS takes any element-aligned operand); linear and loss only with cuBLAS.
     */
    static Capabilities capabilities(boolean blas) {
        List<PortCapabilities> ports = new ArrayList<>(List.of(
                new TensorCapabilities(DTYPES, EnumSet.allOf(TensorFeature.class), 1),
                new AttentionCapabilities(DTYPES, EnumSet.complementOf(EnumSet.of(AttentionFeature.BHSD_LAYOUT)), 1,
                        KernelCatalog.maxHeadDim()),
                NormCapabilities.all(DTYPES), new RotaryCapabilities(DTYPES),
                new ActivationCapabilities(DTYPES, EnumSet.allOf(Activation.class)), new ElementwiseCapabilities(DTYPES),
                new EmbeddingCapabilities(DTYPES), new OptimizerCapabilities(DTYPES), new RandomCapabilities(DTYPES)));
        if (blas) {
            ports.add(new LinearCapabilities(DTYPES));
            ports.add(new LossCapabilities(DTYPES));
        }
        return Capabilities.of(ports.toArray(PortCapabilities[]::new));
    }

    private final Gpu gpu;
    private final Capabilities capabilities;
    /** Dynamic shared memory of each tensor-core kernel; empty unless tensor cores were asked for. */
    private final Map<String, Integer> tensorCoreSharedBytes;
    private final List<String> devices;
    private final TensorRegistry<CudaTensor> live = new TensorRegistry<>();
    private final CudaTensors tensors = new CudaTensors(this);
    private final AttentionPort attention = new CudaAttention(this);
    private final NormalizationPort normalization = new CudaNormalization(this);
    private final RotaryPort rotary = new CudaRotary(this);
    private final ActivationPort activation = new CudaActivation(this);
    private final ElementwisePort elementwise = new CudaElementwise(this);
    private final EmbeddingPort embedding = new CudaEmbedding(this);
    private final OptimizerPort optimizer = new CudaOptimizer(this);
    private final RandomPort random = new CudaRandom(this);
    private final LinearPort linear;
    private final LossPort loss;
    private boolean closed;

    /**
     * An engine over {@code gpu}, which it closes with itself (also when this constructor fails).
     *
     * @param gpu            the device
     * @param tensorCores    whether to use the tensor-core attention forward
     * @param lossChunkRows  rows per chunk of the fused cross-entropy, 0 to size chunks by the vocabulary
     */
    CudaEngine(Gpu gpu, boolean tensorCores, int lossChunkRows) {
        this.gpu = gpu;
        try {
            gpu.makeCurrent();
            this.tensorCoreSharedBytes = tensorCores ? configureTensorCores() : Map.of();
            String blasProblem = gpu.blasProblem();
            this.capabilities = capabilities(blasProblem == null);
            this.linear = blasProblem == null ? new CudaLinear(this) : null;
            this.loss = blasProblem == null ? new CudaLoss(this, lossChunkRows) : null;
            this.devices = List.of(gpu.describe() + (tensorCores ? ", tensor-core forward" : "")
                    + (blasProblem == null ? ", cuBLAS" : ", no linear/loss: " + blasProblem));
        } catch (RuntimeException e) {
            gpu.close();
            throw e;
        }
    }

    /**
     * Asks each tensor-core kernel for its dynamic shared memory (one source of truth: the kernel's own layout),
     * checks the device allows it and opts the kernel in to that much.
     */
    private Map<String, Integer> configureTensorCores() {
        int optIn = gpu.sharedMemoryOptIn();
        Map<String, Integer> bytes = new HashMap<>();
        DevicePointer answer = gpu.allocate(Integer.BYTES);
        try {
            for (DType t : KernelCatalog.TENSOR_CORE_DTYPES) {
                for (int bucket : KernelCatalog.TENSOR_CORE_BUCKETS) {
                    String kernel = KernelCatalog.tensorCoreForward(t, bucket);
                    gpu.launch(KernelCatalog.tensorCoreSharedBytes(t, bucket), 0, 1, 1, 1, 1, answer);
                    gpu.synchronize(KernelCatalog.tensorCoreSharedBytes(t, bucket));
                    int[] value = new int[1];
                    gpu.copyOut(value, answer, Integer.BYTES);
                    if (value[0] > optIn) {
                        throw new Attn4jException("backend 'cuda': option tensorCores=true needs " + value[0]
                                + " bytes of shared memory per block for " + kernel + ", the device allows " + optIn);
                    }
                    gpu.setMaxDynamicSharedMemory(kernel, value[0]);
                    bytes.put(kernel, value[0]);
                }
            }
        } finally {
            gpu.free(answer);
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
        return capabilities;
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
        return tensor instanceof CudaTensor t && t.owner() == this;
    }

    @Override
    public OptionalInt openTensors() {
        return OptionalInt.of(liveTensors());
    }

    /** Runs {@code work} with the engine's context current, one call at a time. */
    synchronized <R> R call(Supplier<R> work) {
        if (closed) {
            // A call that waited for the engine's lock while another thread closed it (issue 13 item 5).
            throw new ClosedException("the cuda backend was closed before this call could run");
        }
        gpu.makeCurrent();
        return work.get();
    }

    /** As {@link #call}, for work without a result. */
    void run(Runnable work) {
        call(() -> {
            work.run();
            return null;
        });
    }

    /** The device (called inside {@link #call}). */
    Gpu gpu() {
        return gpu;
    }

    /** Launches {@code kernel} on a {@code gridX × gridY × gridZ} grid of {@code threads}-thread blocks. */
    void launch(String kernel, int gridX, int gridY, int gridZ, int threads, Object... args) {
        gpu.launch(kernel, 0, gridX, gridY, gridZ, threads, args);
    }

    /**
     * Launches a grid-stride kernel over {@code count} items: one thread per item up to {@link #MAX_GRID_BLOCKS}
     * blocks, beyond which each thread loops. Nothing is launched for {@code count = 0}.
     */
    void launchItems(String kernel, long count, int threads, Object... args) {
        if (count > 0) {
            long blocks = Math.min((count + threads - 1) / threads, MAX_GRID_BLOCKS);
            gpu.launch(kernel, 0, (int) blocks, 1, 1, threads, args);
        }
    }

    /** Runs one cuBLAS GEMM. */
    void gemm(GemmCall call) {
        gpu.gemm(call);
    }

    /** Waits for the launched kernels of {@code op}. */
    void synchronize(String op) {
        gpu.synchronize(op);
    }

    /** A new uninitialised device tensor (called inside {@link #call}). */
    CudaTensor allocate(Shape shape, DType dtype) {
        long bytes = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
        DevicePointer pointer = gpu.allocate(bytes);
        return live.register(new CudaTensor(this, shape, dtype, pointer));
    }

    /** A view of {@code base} (called inside {@link #call}; the facade checked the range). */
    CudaTensor view(CudaTensor base, long offset, Shape shape) {
        return live.register(base.view(offset, shape));
    }

    /**
     * Frees {@code tensor} unless it is already closed: its views first, then its memory (a view frees none).
     * Idempotent; frees nothing on the device once the engine is closed (the context took everything with it).
     */
    synchronized void free(CudaTensor tensor) {
        DevicePointer pointer = tensor.takePointer();
        if (pointer == null) {
            return;
        }
        RuntimeException failure = null;
        for (CudaTensor v : tensor.takeViews()) {
            try {
                free(v);
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (tensor.base() != null) {
            tensor.base().forget(tensor);
        }
        if (live.release(tensor) && !closed && !tensor.isView()) {
            gpu.makeCurrent();
            gpu.free(pointer);
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Throws {@link InvalidRequestException} when {@code written} shares memory with {@code read} (views of one
     * allocation); with {@code identicalOk} the very same elements are allowed (in-place element-wise ops).
     */
    static void requireApart(String writtenName, DeviceTensor written, String readName, DeviceTensor read,
                             boolean identicalOk) {
        CudaTensor w = (CudaTensor) written;
        CudaTensor r = (CudaTensor) read;
        InvalidRequestException.check(!w.overlaps(r, identicalOk), writtenName, "memory apart from " + readName + "'s"
                + (identicalOk ? " (or the very same elements)" : ""), "views sharing device memory");
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
            gpu.makeCurrent();
            live.closeAll(t -> {
                DevicePointer pointer = t.takePointer();
                if (pointer != null && !t.isView()) {
                    gpu.free(pointer);
                }
            });
        } finally {
            closed = true;
            gpu.close();
        }
    }
}
