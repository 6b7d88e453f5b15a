package dev.attn4j.conformance;

import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionGrads;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.DenseBias;
import dev.attn4j.oracle.DenseMaskFlags;
import dev.attn4j.oracle.FlashMaskIndices;
import dev.attn4j.oracle.NormGrads;
import dev.attn4j.oracle.NormOracle;
import dev.attn4j.oracle.NormOutputs;
import dev.attn4j.oracle.NormProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.oracle.RotaryOracle;
import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.function.BiFunction;

/**
 * A test-only engine whose kernels are the oracle at the storage type's precision (never registered with
 * {@link java.util.ServiceLoader}). It proves the runner end to end: an honest engine passes, and
 * {@link #tamper} lets a test corrupt one named output to show the suite catches it.
 */
final class OracleEngine implements BackendEngine {
    private final String name;
    private final Capabilities capabilities;
    private final BiFunction<String, float[], float[]> tamper;
    private final List<HostTensor> live = new ArrayList<>();
    private long dropoutOffsetShift;

    /**
     * @param tamper given an output's name ({@code o, lse, dq, dk, dv, dBiasTable, y, mean, rstd, sum, dInput,
     *               dResidual, dGamma, dBeta}) and its values, returns what the engine hands back
     */
    OracleEngine(String name, Capabilities capabilities, BiFunction<String, float[], float[]> tamper) {
        this.name = name;
        this.capabilities = capabilities;
        this.tamper = tamper;
    }

    /** Makes the engine draw its dropout bits at another counter offset (a wrong mapping, for tests). */
    OracleEngine shiftDropoutOffset(long shift) {
        this.dropoutOffsetShift = shift;
        return this;
    }

    static Capabilities everything() {
        java.util.Set<DType> dtypes = EnumSet.of(DType.F32, DType.BF16, DType.F16);
        return Capabilities.of(TensorCapabilities.transfers(dtypes),
                new AttentionCapabilities(dtypes, EnumSet.allOf(AttentionFeature.class), 1, 512),
                NormCapabilities.all(dtypes), new RotaryCapabilities(dtypes));
    }

    static Capabilities coreOnly() {
        java.util.Set<DType> f32 = EnumSet.of(DType.F32);
        return Capabilities.of(TensorCapabilities.transfers(f32),
                new AttentionCapabilities(f32, EnumSet.of(AttentionFeature.BACKWARD, AttentionFeature.CAUSAL,
                        AttentionFeature.GQA), 1, 256),
                NormCapabilities.all(f32));
    }

    @Override public String name() { return name; }
    @Override public Capabilities capabilities() { return capabilities; }
    @Override public List<String> devices() { return List.of("host (oracle)"); }
    @Override public TensorPort tensors() { return tensors; }
    @Override public AttentionPort attention() { return attention; }
    @Override public NormalizationPort normalization() { return normalization; }
    @Override public RotaryPort rotary() { return rotary; }
    @Override public boolean owns(DeviceTensor t) { return t instanceof HostTensor h && h.owner == this; }

    @Override
    public synchronized void close() {
        for (HostTensor t : List.copyOf(live)) {
            t.close();
        }
    }

    synchronized int liveTensors() {
        return live.size();
    }

    private final class HostTensor implements DeviceTensor {
        final OracleEngine owner = OracleEngine.this;
        final Shape shape;
        final DType dtype;
        final Object data;
        boolean closed;

        HostTensor(Shape shape, DType dtype, Object data) {
            this.shape = shape;
            this.dtype = dtype;
            this.data = data;
            synchronized (OracleEngine.this) {
                live.add(this);
            }
        }

        @Override public Shape shape() { return shape; }
        @Override public DType dtype() { return dtype; }
        @Override public String backendName() { return name; }
        @Override public boolean isClosed() { return closed; }

        @Override
        public void close() {
            synchronized (OracleEngine.this) {
                closed = true;
                live.remove(this);
            }
        }
    }

    private final TensorPort tensors = new TensorPort() {
        @Override
        public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
            Precision p = Precision.of(dtype);
            float[] stored = new float[data.length];
            for (int i = 0; i < data.length; i++) {
                stored[i] = (float) p.round(data[i]);
            }
            return new HostTensor(shape, dtype, stored);
        }

        @Override public DeviceTensor uploadInts(int[] data, Shape shape) { return new HostTensor(shape, DType.I32, data.clone()); }
        @Override public DeviceTensor uploadBools(boolean[] data, Shape shape) { return new HostTensor(shape, DType.BOOL, data.clone()); }

        @Override
        public DeviceTensor zeros(Shape shape, DType dtype) {
            int n = Math.toIntExact(shape.elementCount());
            Object data = switch (dtype) {
                case I32 -> new int[n];
                case BOOL -> new boolean[n];
                default -> new float[n];
            };
            return new HostTensor(shape, dtype, data);
        }

        @Override public float[] download(DeviceTensor t) { return ((float[]) ((HostTensor) t).data).clone(); }
        @Override public int[] downloadInts(DeviceTensor t) { return ((int[]) ((HostTensor) t).data).clone(); }
        @Override public boolean[] downloadBools(DeviceTensor t) { return ((boolean[]) ((HostTensor) t).data).clone(); }
    };

    private static double[] doubles(DeviceTensor t) {
        float[] f = (float[]) ((HostTensor) t).data;
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private DeviceTensor output(String what, double[] values, Shape shape, DType dtype) {
        float[] f = DeviceScope.toFloats(values);
        return tensors.upload(tamper.apply(what, f), shape, dtype);
    }

    private AttentionProblem problem(AttentionShape s, DeviceTensor q, DeviceTensor k, DeviceTensor v,
                                            AttentionOptions o) {
        AttentionDims d = new AttentionDims(s.batch(), s.seqQ(), s.seqK(), s.heads(), s.kvHeads(), s.headDim());
        DenseBias bias = null;
        if (o.denseBias() != null) {
            bias = new DenseBias(o.denseBias().shape().dim(0), o.denseBias().shape().dim(1), doubles(o.denseBias()));
        }
        DenseMaskFlags mask = null;
        if (o.denseMask() != null) {
            mask = new DenseMaskFlags(o.denseMask().shape().dim(0), o.denseMask().shape().dim(1),
                    (boolean[]) ((HostTensor) o.denseMask()).data);
        }
        FlashMaskIndices flash = null;
        if (o.flashMask() != null) {
            flash = new FlashMaskIndices(o.flashMask().shape().dim(1), o.flashMask().shape().dim(3),
                    (int[]) ((HostTensor) o.flashMask()).data);
        }
        return new AttentionProblem(d, doubles(q), doubles(k), doubles(v), o.scaleFor(s.headDim()), o.causal(),
                o.windowLeft(), o.windowRight(), o.softcap(),
                o.alibiSlopes() != null ? doubles(o.alibiSlopes()) : null,
                o.biasTable() != null ? doubles(o.biasTable()) : null, bias, flash, mask,
                dropoutOffsetShift == 0 ? o.dropout()
                        : new Dropout(o.dropout().p(), o.dropout().seed(), o.dropout().offset() + dropoutOffsetShift));
    }

    private final AttentionPort attention = new AttentionPort() {
        @Override
        public AttentionResult forward(AttentionRequest r) {
            AttentionShape s = r.shape();
            AttentionOutputs out = AttentionOracle.forward(problem(s, r.q(), r.k(), r.v(), r.options()),
                    Precision.of(r.q().dtype()));
            return new AttentionResult(output("o", out.o(), s.queryShape(), r.q().dtype()),
                    output("lse", out.lse(), s.lseShape(), DType.F32));
        }

        @Override
        public AttentionGradients backward(AttentionBackwardRequest r) {
            AttentionShape s = r.shape();
            AttentionGrads g = AttentionOracle.backward(problem(s, r.q(), r.k(), r.v(), r.options()), doubles(r.dO()),
                    Precision.of(r.q().dtype()));
            DType dt = r.q().dtype();
            return new AttentionGradients(output("dq", g.dq(), s.queryShape(), dt), output("dk", g.dk(), s.keyShape(), dt),
                    output("dv", g.dv(), s.keyShape(), dt),
                    r.options().biasTableGrad() ? output("dBiasTable", g.dBiasTable(), s.biasTableShape(), DType.F32) : null);
        }
    };

    private static NormProblem normProblem(NormRequest r) {
        int cols = r.input().shape().dim(-1);
        return new NormProblem(r.kind(), Math.toIntExact(r.rows()), cols, doubles(r.input()),
                r.residual() != null ? doubles(r.residual()) : null, r.residualScale(), doubles(r.gamma()),
                r.beta() != null ? doubles(r.beta()) : null, r.eps());
    }

    private final NormalizationPort normalization = new NormalizationPort() {
        @Override
        public NormResult forward(NormRequest r) {
            NormOutputs o = NormOracle.forward(normProblem(r), Precision.of(r.input().dtype()));
            Shape shape = r.input().shape();
            DType dt = r.input().dtype();
            return new NormResult(output("y", o.y(), shape, dt),
                    o.mean() != null ? output("mean", o.mean(), r.statsShape(), DType.F32) : null,
                    output("rstd", o.rstd(), r.statsShape(), DType.F32),
                    o.sum() != null ? output("sum", o.sum(), shape, dt) : null);
        }

        @Override
        public NormGradients backward(NormBackwardRequest r) {
            NormRequest f = r.forward();
            NormGrads g = NormOracle.backward(normProblem(f), doubles(r.dy()), r.dSum() != null ? doubles(r.dSum()) : null,
                    Precision.of(f.input().dtype()));
            Shape shape = f.input().shape();
            DType dt = f.input().dtype();
            Shape row = f.gamma().shape();
            return new NormGradients(output("dInput", g.dInput(), shape, dt),
                    g.dResidual() != null ? output("dResidual", g.dResidual(), shape, dt) : null,
                    output("dGamma", g.dGamma(), row, f.gamma().dtype()),
                    g.dBeta() != null ? output("dBeta", g.dBeta(), row, f.gamma().dtype()) : null);
        }
    };

    private final RotaryPort rotary = r -> {
        Shape s = r.x().shape();
        double[] y = RotaryOracle.apply(doubles(r.x()), s.dim(0), s.dim(1), s.dim(2), s.dim(3), doubles(r.cos()),
                doubles(r.sin()), r.scale() != null ? doubles(r.scale()) : null, r.layout(), r.inverse());
        return output("x", y, s, r.x().dtype());
    };

    /** No tampering. */
    static float[] honest(String name, float[] values) {
        return values;
    }

}
