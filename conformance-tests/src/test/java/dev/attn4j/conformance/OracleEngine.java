package dev.attn4j.conformance;

import dev.attn4j.oracle.ActivationOracle;
import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionGrads;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.CrossEntropyOracle;
import dev.attn4j.oracle.DenseBias;
import dev.attn4j.oracle.DenseMaskFlags;
import dev.attn4j.oracle.ElementwiseOracle;
import dev.attn4j.oracle.EmbeddingOracle;
import dev.attn4j.oracle.FlashMaskIndices;
import dev.attn4j.oracle.GluLayouts;
import dev.attn4j.oracle.LinearOracle;
import dev.attn4j.oracle.NormGrads;
import dev.attn4j.oracle.NormOracle;
import dev.attn4j.oracle.NormOutputs;
import dev.attn4j.oracle.NormProblem;
import dev.attn4j.oracle.OptimizerOracle;
import dev.attn4j.oracle.Precision;
import dev.attn4j.oracle.RandomOracle;
import dev.attn4j.oracle.RotaryOracle;
import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.OptimizerCapabilities;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.random.RandomCapabilities;
import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorFeature;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.BiFunction;

/**
 * A test-only engine whose kernels are the oracle at the storage type's precision (never registered with
 * {@link java.util.ServiceLoader}), for every port. It proves the runners end to end: an honest engine passes, and
 * {@link #tamper} lets a test corrupt one named output to show the suite catches it. Tensors live on the heap; a
 * view shares its base's array.
 */
final class OracleEngine implements BackendEngine {
    private static final java.util.Set<DType> ALL_FLOATING = EnumSet.of(DType.F32, DType.BF16, DType.F16);

    private final String name;
    private final Capabilities capabilities;
    private final BiFunction<String, float[], float[]> tamper;
    private final List<HostTensor> live = new ArrayList<>();
    private long dropoutOffsetShift;

    /**
     * @param tamper given an output's name ({@code o, lse, dq, dk, dv, dBiasTable, y, mean, rstd, sum, dInput,
     *               dResidual, dGamma, dBeta, x} and, for the model ports, {@code y, dx, dW, db, c, dv, dTable,
     *               lossSum, count, perToken, dHidden, params, expAvg, expAvgSq, accumulator, values, cast, filled})
     *               and its values, returns what the engine hands back or writes
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

    /** Every port, every floating dtype, every feature. */
    static Capabilities everything() {
        // [B, S, H, D] only: the oracle reads its inputs in that layout (the suite's BHSD cases are then unsupported)
        java.util.Set<DType> dtypes = ALL_FLOATING;
        return Capabilities.of(new TensorCapabilities(dtypes, EnumSet.allOf(TensorFeature.class), 1),
                new AttentionCapabilities(dtypes, EnumSet.complementOf(EnumSet.of(AttentionFeature.BHSD_LAYOUT)), 1, 512),
                NormCapabilities.all(dtypes), new RotaryCapabilities(dtypes), new LinearCapabilities(dtypes),
                new ActivationCapabilities(dtypes, EnumSet.allOf(Activation.class)), new ElementwiseCapabilities(dtypes),
                new EmbeddingCapabilities(dtypes), new LossCapabilities(dtypes), new OptimizerCapabilities(dtypes),
                new RandomCapabilities(dtypes));
    }

    /** F32 attention (backward, causal, GQA) and norms only: no model port, no device-side tensor operation. */
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
    @Override public LinearPort linear() { return linear; }
    @Override public ActivationPort activation() { return activation; }
    @Override public ElementwisePort elementwise() { return elementwise; }
    @Override public EmbeddingPort embedding() { return embedding; }
    @Override public LossPort loss() { return loss; }
    @Override public OptimizerPort optimizer() { return optimizer; }
    @Override public RandomPort random() { return random; }
    @Override public boolean owns(DeviceTensor t) { return t instanceof HostTensor h && h.owner == this; }

    @Override
    public synchronized OptionalInt openTensors() {
        return OptionalInt.of(live.size());
    }

    @Override
    public synchronized void close() {
        for (HostTensor t : List.copyOf(live)) {
            t.close();
        }
    }

    synchronized int liveTensors() {
        return live.size();
    }

    /** A heap tensor: {@code data} (a float[], int[] or boolean[]) from {@code offset}; a view shares its base's. */
    private final class HostTensor implements DeviceTensor {
        final OracleEngine owner = OracleEngine.this;
        final Shape shape;
        final DType dtype;
        final Object data;
        final int offset;
        final HostTensor base;
        boolean closed;

        HostTensor(Shape shape, DType dtype, Object data, int offset, HostTensor base) {
            this.shape = shape;
            this.dtype = dtype;
            this.data = data;
            this.offset = offset;
            this.base = base;
            synchronized (OracleEngine.this) {
                live.add(this);
            }
        }

        HostTensor(Shape shape, DType dtype, Object data) {
            this(shape, dtype, data, 0, null);
        }

        int count() {
            return Math.toIntExact(shape.elementCount());
        }

        @Override public Shape shape() { return shape; }
        @Override public DType dtype() { return dtype; }
        @Override public String backendName() { return name; }

        @Override
        public boolean isClosed() {
            return closed || (base != null && base.isClosed());
        }

        @Override
        public void close() {
            synchronized (OracleEngine.this) {
                closed = true;
                live.remove(this);
                live.removeIf(t -> t.base == this);   // closing a base closes its views
            }
        }
    }

    /** The float values of a floating tensor (its window of the storage). */
    private static float[] floats(DeviceTensor t) {
        HostTensor h = (HostTensor) t;
        return java.util.Arrays.copyOfRange((float[]) h.data, h.offset, h.offset + h.count());
    }

    private static double[] doubles(DeviceTensor t) {
        float[] f = floats(t);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static int[] ints(DeviceTensor t) {
        HostTensor h = (HostTensor) t;
        return java.util.Arrays.copyOfRange((int[]) h.data, h.offset, h.offset + h.count());
    }

    /** {@code values} rounded to the storage type. */
    private static float[] stored(float[] values, DType dtype) {
        Precision p = Precision.of(dtype);
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) p.round(values[i]);
        }
        return out;
    }

    private final TensorPort tensors = new TensorPort() {
        @Override
        public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
            return new HostTensor(shape, dtype, stored(data, dtype));
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

        @Override public float[] download(DeviceTensor t) { return floats(t); }
        @Override public int[] downloadInts(DeviceTensor t) { return ints(t); }

        @Override
        public boolean[] downloadBools(DeviceTensor t) {
            HostTensor h = (HostTensor) t;
            return java.util.Arrays.copyOfRange((boolean[]) h.data, h.offset, h.offset + h.count());
        }

        @Override
        public DeviceTensor view(DeviceTensor base, long offset, Shape shape) {
            HostTensor b = (HostTensor) base;
            HostTensor root = b.base != null ? b.base : b;
            return new HostTensor(shape, b.dtype, b.data, Math.toIntExact(b.offset + offset), root);
        }

        @Override
        public void copy(CopyRequest r) {
            HostTensor src = (HostTensor) r.src();
            HostTensor dst = (HostTensor) r.dst();
            for (long row = 0; row < r.rows(); row++) {
                System.arraycopy(src.data, Math.toIntExact(src.offset + r.srcOffset() + row * r.srcStride()), dst.data,
                        Math.toIntExact(dst.offset + r.dstOffset() + row * r.dstStride()), Math.toIntExact(r.cols()));
            }
        }

        @Override
        public DeviceTensor cast(DeviceTensor source, DType dtype) {
            return upload(tamper.apply("cast", floats(source)), source.shape(), dtype);
        }

        @Override
        public void fill(DeviceTensor tensor, float value) {
            float[] v = new float[Math.toIntExact(tensor.shape().elementCount())];
            java.util.Arrays.fill(v, value);
            write("filled", tensor, v);
        }
    };

    private DeviceTensor output(String what, double[] values, Shape shape, DType dtype) {
        float[] f = DeviceScope.toFloats(values);
        return tensors.upload(tamper.apply(what, f), shape, dtype);
    }

    /** Writes {@code values} (tampered, then rounded to the dtype) into {@code t}'s window, as an in-place op does. */
    private void write(String what, DeviceTensor t, float[] values) {
        HostTensor h = (HostTensor) t;
        float[] v = stored(tamper.apply(what, values.clone()), h.dtype);
        System.arraycopy(v, 0, h.data, h.offset, v.length);
    }

    private void write(String what, DeviceTensor t, double[] values) {
        write(what, t, DeviceScope.toFloats(values));
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
                    tensors.downloadBools(o.denseMask()));
        }
        FlashMaskIndices flash = null;
        if (o.flashMask() != null) {
            flash = new FlashMaskIndices(o.flashMask().shape().dim(1), o.flashMask().shape().dim(3), ints(o.flashMask()));
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

    private final LinearPort linear = new LinearPort() {
        @Override
        public DeviceTensor forward(LinearRequest r) {
            DType dt = r.x().dtype();
            double[] y = LinearOracle.forward(doubles(r.x()), Math.toIntExact(r.rows()), r.inFeatures(), doubles(r.weight()),
                    r.layout(), r.outFeatures(), r.bias() != null ? doubles(r.bias()) : null, Precision.of(dt));
            return output("y", y, r.outputShape(), dt);
        }

        @Override
        public DeviceTensor backward(LinearBackwardRequest r) {
            LinearRequest f = r.forward();
            DType dt = f.x().dtype();
            LinearOracle.Grads g = LinearOracle.backward(doubles(f.x()), Math.toIntExact(f.rows()), f.inFeatures(),
                    doubles(f.weight()), f.layout(), f.outFeatures(), doubles(r.dy()), r.inputGrad(),
                    r.weightGrad() != null ? doubles(r.weightGrad()) : null,
                    r.biasGrad() != null ? doubles(r.biasGrad()) : null, Precision.of(dt));
            if (r.weightGrad() != null) {
                write("dW", r.weightGrad(), g.dWeight());
            }
            if (r.biasGrad() != null) {
                write("db", r.biasGrad(), g.dBias());
            }
            return r.inputGrad() ? output("dx", g.dx(), f.x().shape(), dt) : null;
        }

        @Override
        public void matmul(MatmulRequest r) {
            boolean batched = r.c().shape().rank() == 3;
            var dims = new LinearOracle.MatmulDims(r.batch(), batched && MatmulRequest.shared(r.a()),
                    batched && MatmulRequest.shared(r.b()), r.m(), r.n(), r.k(), r.transposeA(), r.transposeB());
            write("c", r.c(), LinearOracle.matmul(dims, doubles(r.a()), doubles(r.b()), doubles(r.c()), r.alpha(),
                    r.beta(), Precision.of(r.c().dtype())));
        }
    };

    private final ActivationPort activation = new ActivationPort() {
        @Override
        public DeviceTensor forward(ActivationRequest r) {
            DType dt = r.x().dtype();
            return output("y", ActivationOracle.forward(r.function(), doubles(r.x()), Precision.of(dt)), r.x().shape(), dt);
        }

        @Override
        public DeviceTensor backward(ActivationBackwardRequest r) {
            DeviceTensor x = r.forward().x();
            return output("dx", ActivationOracle.backward(r.forward().function(), doubles(x), doubles(r.dy()),
                    Precision.of(x.dtype())), x.shape(), x.dtype());
        }

        @Override
        public DeviceTensor glu(GluRequest r) {
            DType dt = r.x().dtype();
            int rows = Math.toIntExact(r.rows());
            return output("y", ActivationOracle.glu(r.gate(), concatenated(r), rows, r.halfWidth(), Precision.of(dt)),
                    r.outputShape(), dt);
        }

        @Override
        public DeviceTensor gluBackward(GluBackwardRequest r) {
            GluRequest f = r.forward();
            DType dt = f.x().dtype();
            int rows = Math.toIntExact(f.rows());
            int half = f.halfWidth();
            double[] dx = ActivationOracle.gluBackward(f.gate(), concatenated(f), doubles(r.dy()), rows, half,
                    Precision.of(dt));
            if (f.isSplit()) {
                dx = GluLayouts.stack(dx, rows, half);
            }
            return output("dx", dx, f.gradientShape(), dt);
        }

        /** The GLU's input as the oracle reads it, {@code [rows, 2F]}; a split request's halves side by side. */
        private double[] concatenated(GluRequest r) {
            return r.isSplit() ? GluLayouts.concatenate(doubles(r.x()), doubles(r.gateInput()),
                    Math.toIntExact(r.rows()), r.halfWidth()) : doubles(r.x());
        }
    };

    private final ElementwisePort elementwise = new ElementwisePort() {
        @Override
        public DeviceTensor add(AddRequest r) {
            DType dt = r.a().dtype();
            return output("y", ElementwiseOracle.add(doubles(r.a()), doubles(r.b()), r.alpha(), Precision.of(dt)),
                    r.a().shape(), dt);
        }

        @Override
        public void axpy(AxpyRequest r) {
            write("y", r.y(), ElementwiseOracle.axpy(r.alpha(), doubles(r.x()), doubles(r.y()),
                    Precision.of(r.y().dtype())));
        }

        @Override
        public void scale(ScaleRequest r) {
            write("x", r.x(), ElementwiseOracle.scale(doubles(r.x()), r.alpha(), Precision.of(r.x().dtype())));
        }

        @Override
        public DeviceTensor multiply(BroadcastMultiplyRequest r) {
            DType dt = r.x().dtype();
            return output("y", ElementwiseOracle.multiply(doubles(r.x()), r.x().shape().dim(-1), doubles(r.v()), r.axis(),
                    Precision.of(dt)), r.x().shape(), dt);
        }

        @Override
        public DeviceTensor multiplyBackward(BroadcastMultiplyBackwardRequest r) {
            BroadcastMultiplyRequest f = r.forward();
            DType dt = f.x().dtype();
            var g = ElementwiseOracle.multiplyBackward(doubles(f.x()), f.x().shape().dim(-1), doubles(f.v()), f.axis(),
                    doubles(r.dy()), r.inputGrad(), r.vectorGrad() != null ? doubles(r.vectorGrad()) : null,
                    Precision.of(dt));
            if (r.vectorGrad() != null) {
                write("dv", r.vectorGrad(), g.vectorGrad());
            }
            return r.inputGrad() ? output("dx", g.dx(), f.x().shape(), dt) : null;
        }

        @Override
        public DeviceTensor shiftTokens(TokenShiftRequest r) {
            Shape s = r.x().shape();
            return output("y", ElementwiseOracle.shiftTokens(doubles(r.x()), s.dim(0), s.dim(1), s.dim(2), r.begin(),
                    r.count(), r.amount(), r.segments() != null ? ints(r.segments()) : null), s, r.x().dtype());
        }
    };

    private final EmbeddingPort embedding = new EmbeddingPort() {
        @Override
        public DeviceTensor forward(EmbeddingRequest r) {
            return output("y", EmbeddingOracle.forward(doubles(r.table()), r.width(), ints(r.ids())), r.outputShape(),
                    r.table().dtype());
        }

        @Override
        public void backward(EmbeddingBackwardRequest r) {
            EmbeddingRequest f = r.forward();
            write("dTable", r.tableGrad(), EmbeddingOracle.backward(ints(f.ids()), doubles(r.dy()), f.width(),
                    doubles(r.tableGrad()), Precision.of(f.table().dtype())));
        }
    };

    private final LossPort loss = r -> {
        DType dt = r.hidden().dtype();
        int rows = Math.toIntExact(r.rows());
        int d = r.hidden().shape().dim(-1);
        CrossEntropyOracle.Result res = CrossEntropyOracle.run(doubles(r.hidden()), rows, d, doubles(r.weight()),
                r.vocabulary(), r.bias() != null ? doubles(r.bias()) : null, ints(r.targets()), r.ignoreIndex(),
                r.gradScale(), r.inputGrad(), r.weightGrad() != null ? doubles(r.weightGrad()) : null,
                r.biasGrad() != null ? doubles(r.biasGrad()) : null, Precision.of(dt));
        if (r.weightGrad() != null) {
            write("dW", r.weightGrad(), res.dWeight());
        }
        if (r.biasGrad() != null) {
            write("db", r.biasGrad(), res.dBias());
        }
        return new CrossEntropyResult(output("lossSum", new double[] {res.lossSum()}, Shape.of(1), DType.F32),
                output("count", new double[] {res.count()}, Shape.of(1), DType.F32),
                r.inputGrad() ? output("dHidden", res.dHidden(), r.hidden().shape(), dt) : null,
                r.perTokenLoss() ? output("perToken", res.perToken(), r.targets().shape(), DType.F32) : null);
    };

    private final OptimizerPort optimizer = new OptimizerPort() {
        @Override
        public void adamW(AdamWRequest r) {
            OptimizerOracle.Clip clip = r.clip() == null ? null
                    : new OptimizerOracle.Clip(r.clip().maxNorm(), floats(r.clip().sumOfSquares())[0]);
            OptimizerOracle.AdamWState s = OptimizerOracle.adamW(doubles(r.params()), doubles(r.grads()),
                    doubles(r.expAvg()), doubles(r.expAvgSq()), r.step(), r.lr(), r.beta1(), r.beta2(), r.eps(),
                    r.weightDecay(), clip, Precision.FP32);
            write("params", r.params(), s.params());
            write("expAvg", r.expAvg(), s.expAvg());
            write("expAvgSq", r.expAvgSq(), s.expAvgSq());
        }

        @Override
        public void sumOfSquares(SumOfSquaresRequest r) {
            write("accumulator", r.accumulator(), new double[] {OptimizerOracle.sumOfSquares(doubles(r.x()),
                    floats(r.accumulator())[0], Precision.FP32)});
        }
    };

    private final RandomPort random = r -> write("values", r.tensor(), RandomOracle.uniform(r.tensor().shape().elementCount(),
            r.low(), r.high(), r.seed(), r.offset(), r.tensor().dtype()));

    /** No tampering. */
    static float[] honest(String name, float[] values) {
        return values;
    }

}
