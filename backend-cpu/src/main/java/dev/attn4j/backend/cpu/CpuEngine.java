package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.ClosedException;
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
import dev.attn4j.ports.spi.HalfPrecisionPorts;
import dev.attn4j.ports.spi.TensorRegistry;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorFeature;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.EnumSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The CPU backend's engine: heap tensors (and views into them), a worker pool, and the kernels. Attention,
 * normalisation and rotary compute in F32 and store F16/BF16 through {@code HalfPrecisionPorts}; the model ports
 * (linear, activation, element-wise, embedding, loss, optimizer, random) are F32 only, since
 * {@code HalfPrecisionPorts} has no wrappers for them (16-bit models keep their master weights and these ops' inputs
 * in F32). Linear runs on one {@link CpuGemm} over the pool; loss gives each worker its own.
 */
final class CpuEngine implements BackendEngine {
    static final String NAME = "cpu";

    private final TensorRegistry<CpuTensor> live = new TensorRegistry<>();
    private final ArrayRecycler recycler = ArrayRecycler.forHeap();
    private final WorkerPool pool;
    private final CpuTensors tensors;
    private final AttentionPort attention;
    private final NormalizationPort normalization;
    private final RotaryPort rotary;
    private final LinearPort linear;
    private final LossPort loss;
    private final ActivationPort activation;
    private final ElementwisePort elementwise;
    private final EmbeddingPort embedding;
    private final OptimizerPort optimizer;
    private final RandomPort random;
    private final Capabilities capabilities;
    private volatile boolean closed;

    CpuEngine(int threads) {
        this(threads, TileMath.get());
    }

    /** An engine computing with the given twin (tests compare the scalar and vector twins). */
    CpuEngine(int threads, TileMath math) {
        this.pool = new WorkerPool(threads);
        this.tensors = new CpuTensors(this, pool);
        // 16-bit calls need no lock here: their temporaries are the call's own heap arrays.
        HalfConversions half = new HalfConversions(this, pool);
        this.attention = HalfPrecisionPorts.attention(half, null, new TiledCpuAttention(this, pool, math));
        this.normalization = HalfPrecisionPorts.normalization(half, null, new CpuNormalization(this, pool));
        this.rotary = HalfPrecisionPorts.rotary(half, null, new CpuRotary(this, pool));
        CpuGemm gemm = new CpuGemm(pool, math);
        this.linear = new CpuLinear(this, pool, gemm);
        this.loss = new CpuLoss(this, pool, math);
        this.activation = new CpuActivation(this, pool);
        this.elementwise = new CpuElementwise(this, pool);
        this.embedding = new CpuEmbedding(this, pool);
        this.optimizer = new CpuOptimizer(pool);
        this.random = new CpuRandom(pool);
        Set<DType> dtypes = EnumSet.of(DType.F32, DType.F16, DType.BF16);
        Set<DType> f32 = EnumSet.of(DType.F32);
        // Views need no alignment: a view is an offset into a Java array.
        this.capabilities = Capabilities.of(new TensorCapabilities(dtypes, EnumSet.allOf(TensorFeature.class), 1),
                new AttentionCapabilities(dtypes, EnumSet.allOf(AttentionFeature.class), 1, 512),
                NormCapabilities.all(dtypes), new RotaryCapabilities(dtypes),
                new LinearCapabilities(f32), new LossCapabilities(f32),
                new ActivationCapabilities(f32, EnumSet.allOf(Activation.class)), new ElementwiseCapabilities(f32),
                new EmbeddingCapabilities(f32), new OptimizerCapabilities(f32), new RandomCapabilities(f32));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public List<String> devices() {
        return List.of("cpu: " + pool.threads() + " worker threads, " + Simd.description());
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
    public LossPort loss() {
        return loss;
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
    public OptimizerPort optimizer() {
        return optimizer;
    }

    @Override
    public RandomPort random() {
        return random;
    }

    @Override
    public boolean owns(DeviceTensor tensor) {
        return tensor instanceof CpuTensor t && t.owner() == this;
    }

    @Override
    public OptionalInt openTensors() {
        return OptionalInt.of(live.size());
    }

    /**
     * Closes the engine: fails the calls in flight ({@link ClosedException}, once the items their workers hold
     * are done; see {@link WorkerPool}) and drops every tensor. A call that finishes its kernels after this
     * frees its outputs and throws rather than hand out tensors of a closed engine.
     */
    @Override
    public void close() {
        // closed is set before the sweep: a tensor registered after it sees the flag (see register).
        closed = true;
        try {
            pool.close();
        } finally {
            try {
                live.closeAll(CpuTensor::drop);
            } finally {
                recycler.clear();
            }
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Throws {@link ClosedException} when the engine was closed while {@code doing} ran. */
    void requireOpen(String doing) {
        if (closed) {
            throw new ClosedException("the cpu backend was closed during " + doing + "; its outputs were freed");
        }
    }

    /** {@code out} if the engine is still open, else frees it and throws {@link ClosedException}. */
    CpuTensor handOut(CpuTensor out, String doing) {
        if (closed) {
            out.close();
            requireOpen(doing);
        }
        return out;
    }

    /** Number of tensors not yet closed (for leak tests). */
    int liveTensors() {
        return live.size();
    }

    CpuTensor register(CpuTensor t) {
        live.register(t);
        if (closed) {
            // Added after (or while) close() swept the live set: never hand out a tensor of a closed engine.
            live.release(t);
            t.drop();
            throw new ClosedException("the cpu backend was closed; no tensor can be made");
        }
        return t;
    }

    void release(CpuTensor t) {
        live.release(t);
    }

    /** A new zero-filled F32 tensor owned by this engine. */
    CpuTensor newFloats(Shape shape) {
        return register(new CpuTensor(this, shape, DType.F32, new float[Math.toIntExact(shape.elementCount())]));
    }

    /**
     * A new F32 tensor whose contents are unspecified: for outputs a kernel overwrites whole. Its array may be a
     * closed tensor's ({@link ArrayRecycler}), which spares clearing a new one.
     */
    CpuTensor newOutput(Shape shape) {
        int n = Math.toIntExact(shape.elementCount());
        float[] data = recycler.take(n);
        return register(new CpuTensor(this, shape, DType.F32, data != null ? data : new float[n]));
    }

    /** Takes back the array of a closed F32 tensor that owned it. */
    void recycle(float[] data) {
        recycler.give(data);
    }

    /** The recycler, for tests. */
    ArrayRecycler recycler() {
        return recycler;
    }

    /** A new zero-filled F16 or BF16 tensor owned by this engine. */
    CpuTensor newHalves(Shape shape, DType dtype) {
        return register(new CpuTensor(this, shape, dtype, new short[Math.toIntExact(shape.elementCount())]));
    }
}
