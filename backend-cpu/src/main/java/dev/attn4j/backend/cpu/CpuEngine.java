package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.Capability;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.HalfPrecisionPorts;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The CPU backend's engine: heap tensors, a worker pool, and the tiled kernels. */
final class CpuEngine implements BackendEngine {
    static final String NAME = "cpu";

    private final Set<CpuTensor> live = ConcurrentHashMap.newKeySet();
    private final WorkerPool pool;
    private final CpuTensors tensors = new CpuTensors(this);
    private final AttentionPort attention;
    private final NormalizationPort normalization;
    private final RotaryPort rotary;
    private final Capabilities capabilities;

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
        EnumSet<Capability> features = EnumSet.of(Capability.ATTENTION_FORWARD, Capability.ATTENTION_BACKWARD,
                Capability.CAUSAL, Capability.GQA, Capability.DETERMINISTIC_BACKWARD,
                Capability.SLIDING_WINDOW, Capability.SOFTCAP, Capability.ALIBI, Capability.BIAS_TABLE,
                Capability.BIAS_TABLE_GRAD, Capability.FLASH_MASK, Capability.DENSE_MASK, Capability.DENSE_BIAS,
                Capability.DROPOUT, Capability.ROTARY,
                Capability.LAYER_NORM, Capability.RMS_NORM, Capability.FUSED_RESIDUAL_NORM);
        features.add(Capability.BHSD_LAYOUT);
        this.capabilities = new Capabilities(EnumSet.of(DType.F32, DType.F16, DType.BF16), features, 1, 512);
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
    public void close() {
        for (CpuTensor t : live) {
            t.drop();
        }
        live.clear();
        pool.close();
    }

    /** Number of tensors not yet closed (for leak tests). */
    int liveTensors() {
        return live.size();
    }

    CpuTensor register(CpuTensor t) {
        live.add(t);
        return t;
    }

    void release(CpuTensor t) {
        live.remove(t);
    }

    /** A new zero-filled F32 tensor owned by this engine. */
    CpuTensor newFloats(Shape shape) {
        return register(new CpuTensor(this, shape, DType.F32, new float[Math.toIntExact(shape.elementCount())]));
    }
}
