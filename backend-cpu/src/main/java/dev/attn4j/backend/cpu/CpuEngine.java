package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.ClosedException;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.HalfPrecisionPorts;
import dev.attn4j.ports.spi.TensorRegistry;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.EnumSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/** The CPU backend's engine: heap tensors, a worker pool, and the tiled kernels. */
final class CpuEngine implements BackendEngine {
    static final String NAME = "cpu";

    private final TensorRegistry<CpuTensor> live = new TensorRegistry<>();
    private final WorkerPool pool;
    private final CpuTensors tensors = new CpuTensors(this);
    private final AttentionPort attention;
    private final NormalizationPort normalization;
    private final RotaryPort rotary;
    private final Capabilities capabilities;
    private volatile boolean closed;

    CpuEngine(int threads) {
        this(threads, TileMath.get());
    }

    /** An engine computing with the given twin (tests compare the scalar and vector twins). */
    CpuEngine(int threads, TileMath math) {
        this.pool = new WorkerPool(threads);
        // 16-bit calls need no lock here: their temporaries are the call's own heap arrays.
        HalfPrecision half = new HalfPrecision(this);
        this.attention = HalfPrecisionPorts.attention(half, null, new TiledCpuAttention(this, pool, math));
        this.normalization = HalfPrecisionPorts.normalization(half, null, new CpuNormalization(this, pool));
        this.rotary = HalfPrecisionPorts.rotary(half, null, new CpuRotary(this, pool));
        Set<DType> dtypes = EnumSet.of(DType.F32, DType.F16, DType.BF16);
        this.capabilities = Capabilities.of(TensorCapabilities.transfers(dtypes),
                new AttentionCapabilities(dtypes, EnumSet.allOf(AttentionFeature.class), 1, 512),
                NormCapabilities.all(dtypes), new RotaryCapabilities(dtypes));
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
            live.closeAll(CpuTensor::drop);
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
}
