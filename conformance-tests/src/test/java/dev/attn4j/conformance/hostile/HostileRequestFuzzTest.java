package dev.attn4j.conformance.hostile;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.ElementwiseOracle;
import dev.attn4j.oracle.LinearOracle;
import dev.attn4j.oracle.RandomOracle;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13: seeded random malformed requests against every available backend. Each request is built from a
 * small valid one by one or two mutations (shapes, dtypes, closed and foreign tensors, non-finite and
 * out-of-float scalars, windows at the int limits, out-of-range mask indices, overflowing sizes, nulls,
 * mismatched backward and norm inputs...), or left valid. The only acceptable outcomes are a specific attn4j
 * exception or a result; a valid attention forward's result must pass the pass rule against the oracle, and
 * every other result must have its output's shape. Anything else (another exception, an Error, a wrong
 * result, a call that does not return) is a failure, reported with the seed and case number to replay it.
 *
 * <p>{@code -Dattn4j.fuzz.cases=N} requests per backend (default {@value #DEFAULT_CASES}),
 * {@code -Dattn4j.fuzz.seed=S} another seed. Each backend prints one line of counts.
 */
class HostileRequestFuzzTest {
    static final int DEFAULT_CASES = 2000;
    static final long DEFAULT_SEED = 0x13_F022L;

    @TestFactory
    Stream<DynamicTest> everyAvailableBackendAnswersEveryHostileRequestWithAnAttn4jErrorOrACorrectResult() {
        int cases = Integer.getInteger("attn4j.fuzz.cases", DEFAULT_CASES);
        long seed = Long.getLong("attn4j.fuzz.seed", DEFAULT_SEED);
        BackendSelector selector = Backends.selector();
        return Backends.available(selector).stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            Fuzz fuzz = new Fuzz(selector, name, seed);
            // Generous: 2000 requests take seconds; a hang must still end the test.
            assertTimeoutPreemptively(Duration.ofSeconds(60 + cases / 5), () -> fuzz.run(cases));
            System.out.println(fuzz.summary());
            assertTrue(fuzz.failures.isEmpty(), () -> fuzz.summary() + "\n  " + String.join("\n  ", fuzz.failures));
        }));
    }

    /** One backend's run: a backend under test, a second one for foreign tensors, and the counts. */
    static final class Fuzz {
        private final BackendSelector selector;
        private final String name;
        private final long seed;
        final List<String> failures = new ArrayList<>();
        private final Map<String, Integer> outcomes = new TreeMap<>();
        private int correct;
        private int requests;
        private long nanos;

        Fuzz(BackendSelector selector, String name, long seed) {
            this.selector = selector;
            this.name = name;
            this.seed = seed;
        }

        void run(int cases) {
            long start = System.nanoTime();
            try (Backend backend = selector.open(name, BackendOptions.none());
                 Backend foreign = selector.open(name, BackendOptions.none())) {
                for (int n = 0; n < cases; n++) {
                    SplittableRandom rnd = new SplittableRandom(seed + n);
                    Case c = new Case(backend, foreign, rnd);
                    requests++;
                    try (c) {
                        c.attempt();
                        outcomes.merge("result", 1, Integer::sum);
                        if (c.checkedCorrect) {
                            correct++;
                        }
                    } catch (Attn4jException e) {
                        outcomes.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                    } catch (Throwable t) {
                        if (t instanceof VirtualMachineError v && !(v instanceof OutOfMemoryError)) {
                            throw v;
                        }
                        outcomes.merge("FAILURE " + t.getClass().getSimpleName(), 1, Integer::sum);
                        failures.add("case " + n + " (seed " + (seed + n) + ", " + c.description + "): " + t);
                    }
                }
            }
            nanos = System.nanoTime() - start;
        }

        String summary() {
            return String.format(java.util.Locale.ROOT, "fuzz %s: %d requests in %.1f s (seed %d): %s; %d results checked "
                    + "against the oracle; %d failures", name, requests, nanos / 1e9, seed, outcomes, correct, failures.size());
        }
    }

    /**
     * One request: the tensors it made (closed when it ends), a description for failures, and whether a result
     * was checked for correctness.
     */
    static final class Case implements AutoCloseable {
        private final Backend b;
        private final Backend foreign;
        private final SplittableRandom rnd;
        private final Deque<AutoCloseable> made = new ArrayDeque<>();
        String description = "";
        boolean checkedCorrect;
        /** Set by a mutation that makes the request malformed: then a result is a failure too. */
        private boolean mustFail;

        Case(Backend b, Backend foreign, SplittableRandom rnd) {
            this.b = b;
            this.foreign = foreign;
            this.rnd = rnd;
        }

        void attempt() {
            switch (rnd.nextInt(8)) {
                case 0, 1, 2 -> attention();
                case 3 -> norm();
                case 4 -> rotary();
                case 5 -> tensors();
                default -> modelOp();
            }
            if (mustFail) {
                throw new AssertionError("a malformed request was accepted");
            }
        }

        // ---------------------------------------------------------------------------------------- attention

        private void attention() {
            int batch = 1 + rnd.nextInt(2);
            int sq = 1 + rnd.nextInt(24);
            int sk = 1 + rnd.nextInt(24);
            int kv = 1 + rnd.nextInt(2);
            int heads = kv * (1 + rnd.nextInt(2));
            int d = new int[] {8, 16, 32}[rnd.nextInt(3)];
            boolean backward = rnd.nextInt(4) == 0;
            float[] qv = data(batch * sq * heads * d);
            float[] kvv = data(batch * sk * kv * d);
            float[] vv = data(batch * sk * kv * d);
            Shape qs = Shape.of(batch, sq, heads, d);
            Shape ks = Shape.of(batch, sk, kv, d);
            DeviceTensor q = up(qv, qs);
            DeviceTensor k = up(kvv, ks);
            DeviceTensor v = up(vv, ks);
            AttentionOptions.Builder o = AttentionOptions.builder().causal(rnd.nextBoolean());
            int mutation = rnd.nextInt(24);
            description = "attention B=" + batch + " Sq=" + sq + " Sk=" + sk + " H=" + heads + " Hkv=" + kv + " D=" + d
                    + (backward ? " backward" : "") + " mutation " + mutation;
            boolean valid = false;
            mustFail = mutation <= 9 || (mutation >= 13 && mutation <= 20);
            switch (mutation) {
                case 0 -> q = pick(zeros(Shape.of(batch, sq, heads), DType.F32), zeros(Shape.of(batch, sq, heads, d, 1), DType.F32));
                case 1 -> k = zeros(Shape.of(batch, sk, kv, d + 1), DType.F32);
                case 2 -> v = zeros(Shape.of(batch, sk + 1, kv, d), DType.F32);
                case 3 -> k = zeros(ks, pick(DType.F16, DType.BF16, DType.I32, DType.BOOL));
                case 4 -> q = zeros(qs, pick(DType.I32, DType.BOOL));
                case 5 -> k = zeros(Shape.of(batch, sk, heads + 1, d), DType.F32);     // Hkv not dividing H
                case 6 -> { q.close(); }                                              // a closed input
                case 7 -> k = foreignTensor(ks);                                      // another backend's tensor
                case 8 -> o.scale(pick(Double.NaN, Double.POSITIVE_INFINITY, 0.0, 1e39, -1e39, 1e-300, 1e-40));
                case 9 -> o.softcap(pick(Double.NaN, -1.0, 1e39, 1e-300, 1e-40, Double.MIN_VALUE));
                case 10 -> {
                    int left = pick(Integer.MAX_VALUE, -1, 0, Integer.MIN_VALUE, -2, sk, sk - 1, Integer.MAX_VALUE - 1);
                    int right = pick(Integer.MAX_VALUE, -1, 0, Integer.MIN_VALUE, -7, sq, sq - 1, Integer.MAX_VALUE - 1);
                    o.window(left, right);
                    mustFail = left < -1 || right < -1;
                    valid = !mustFail;   // huge windows must give the unbounded result (issue 13 item 2)
                }
                case 11 -> {
                    double p = pick(Double.NaN, -0.5, 1.0, 2.0, 0.3);
                    mustFail = !(p >= 0 && p < 1);
                    o.dropout(new Dropout(p, rnd.nextLong(), rnd.nextLong()));
                }
                case 12 -> o.flashMask(flashMask(batch, heads, sk, o, pick(-1, -100, Integer.MIN_VALUE, sq + 5,
                        Integer.MAX_VALUE)));
                case 13 -> o.flashMask(ints(new int[batch * sk * 3], Shape.of(batch, 1, sk, 3)));   // n = 3
                case 14 -> o.denseMask(bools(Shape.of(batch, heads, sq + 1, sk)));
                case 15 -> o.denseBias(zeros(Shape.of(batch, heads, sq, sk), pick(DType.I32, DType.BOOL)));
                case 16 -> o.alibiSlopes(zeros(Shape.of(heads + 1), DType.F32));
                case 17 -> o.biasTable(zeros(Shape.of(heads, sq + sk), DType.F32));
                case 18 -> {                                                           // the overflow crash repro
                    description += " (shape count overflowing long)";
                    q = b.tensors().upload(new float[1], Shape.of(7623851, 3935371, 1229673, 1), DType.F32);
                }
                case 19 -> q = b.tensors().upload(new float[1], Shape.of(65536, 65536, 1, 1), DType.F32);
                case 20 -> q = null;
                case 21 -> {                                                           // non-finite data: valid
                    qv[rnd.nextInt(qv.length)] = pick(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
                    q = up(qv, qs);
                    o.causal(false);
                }
                default -> valid = true;
            }
            AttentionOptions options = o.build();
            AttentionResult fwd = own(b.attention().forward(new AttentionRequest(q, k, v, options)));
            requireShape(fwd.o(), qs);
            requireShape(fwd.lse(), Shape.of(batch, heads, sq));
            if (valid && !backward) {
                checkForward(fwd, qv, kvv, vv, batch, sq, sk, heads, kv, d, options);
            }
            if (backward) {
                DeviceTensor dO = up(data(batch * sq * heads * d), qs);
                DeviceTensor lse = fwd.lse();
                DeviceTensor out = fwd.o();
                int bwdMutation = rnd.nextInt(5);
                mustFail |= bwdMutation < 4;
                description += " backward mutation " + bwdMutation;
                switch (bwdMutation) {
                    case 0 -> lse = zeros(Shape.of(batch, heads, sq + 1), DType.F32);
                    case 1 -> out = zeros(qs, DType.BF16);
                    case 2 -> dO = zeros(Shape.of(batch, sq, heads, d + 1), DType.F32);
                    case 3 -> lse.close();
                    default -> { }
                }
                AttentionGradients g = own(b.attention().backward(new AttentionBackwardRequest(dO, q, k, v, out, lse,
                        options.toBuilder().deterministic(rnd.nextBoolean()).build())));
                requireShape(g.dq(), qs);
                requireShape(g.dk(), ks);
            }
        }

        private void checkForward(AttentionResult fwd, float[] q, float[] k, float[] v, int batch, int sq, int sk,
                                  int heads, int kv, int d, AttentionOptions options) {
            AttentionProblem p = new AttentionProblem(new AttentionDims(batch, sq, sk, heads, kv, d), wide(q), wide(k),
                    wide(v), options.scaleFor(d), options.causal(), options.windowLeft(), options.windowRight(),
                    options.softcap(), null, null, null, null, null, Dropout.NONE);
            AttentionOutputs golden = AttentionOracle.forward(p, Precision.FP64);
            AttentionOutputs ref = AttentionOracle.forward(p, Precision.FP32);
            for (PassRule.Check c : List.of(
                    PassRule.check("o", golden.o(), ref.o(), b.tensors().download(fwd.o()), DType.F32),
                    PassRule.check("lse", golden.lse(), ref.lse(), b.tensors().download(fwd.lse()), DType.F32))) {
                if (!c.passed()) {
                    throw new AssertionError("wrong result: " + c.describe());
                }
            }
            checkedCorrect = true;
        }

        private DeviceTensor flashMask(int batch, int heads, int sk, AttentionOptions.Builder o, int bad) {
            boolean causal = o.build().causal();
            int n = causal ? 1 : 2;
            int[] rows = new int[batch * sk * n];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = rnd.nextInt(4) == 0 ? bad : rnd.nextInt(30);
                mustFail |= rows[i] < 0;   // indices above Sq act as Sq; negative ones are refused
            }
            return ints(rows, Shape.of(batch, heads, sk, n));
        }

        // -------------------------------------------------------------------------------------------- norm

        private void norm() {
            int rows = 1 + rnd.nextInt(6);
            int c = 1 + rnd.nextInt(40);
            Shape xs = Shape.of(rows, c);
            DeviceTensor x = up(data(rows * c), xs);
            DeviceTensor gamma = up(data(c), Shape.of(c));
            DeviceTensor beta = rnd.nextBoolean() ? up(data(c), Shape.of(c)) : null;
            double eps = 1e-5;
            double alpha = 1.0;
            DeviceTensor residual = rnd.nextBoolean() ? up(data(rows * c), xs) : null;
            int mutation = rnd.nextInt(12);
            description = "norm rows=" + rows + " C=" + c + " mutation " + mutation;
            mustFail = mutation <= 6;
            switch (mutation) {
                case 0 -> gamma = zeros(Shape.of(c + 1), DType.F32);
                case 1 -> eps = pick(Double.NaN, 0.0, -1.0, 1e-300, 1e-40, 1e39);
                case 2 -> {
                    alpha = pick(Double.NaN, Double.POSITIVE_INFINITY, 1e39, -1e39);
                    mustFail = residual != null;   // α scales the residual; without one it is not used
                }
                case 3 -> residual = zeros(Shape.of(rows, c + 1), DType.F32);
                case 4 -> x = zeros(xs, DType.I32);
                case 5 -> gamma.close();
                case 6 -> gamma = foreignTensor(Shape.of(c));
                default -> { }
            }
            NormRequest req = beta != null ? NormRequest.layerNorm(x, gamma, beta, eps) : NormRequest.rmsNorm(x, gamma, eps);
            if (residual != null) {
                req = req.withResidual(residual, alpha);
            }
            NormResult fwd = own(b.normalization().forward(req));
            requireShape(fwd.y(), xs);
            if (rnd.nextBoolean()) {
                NormResult saved = fwd;
                int savedMutation = rnd.nextInt(4);
                mustFail |= savedMutation < 2 || (savedMutation == 2 && fwd.mean() != null);
                description += " saved mutation " + savedMutation;
                switch (savedMutation) {
                    case 0 -> saved = new NormResult(fwd.y(), fwd.mean(), zeros(Shape.of(rows + 1), DType.F32), fwd.sum());
                    case 1 -> saved = new NormResult(fwd.y(), fwd.mean(), fwd.rstd(), zeros(xs, DType.F16));
                    case 2 -> saved = new NormResult(fwd.y(), fwd.mean() == null ? null : zeros(Shape.of(rows), DType.BF16),
                            fwd.rstd(), fwd.sum());
                    default -> { }
                }
                NormGradients g = own(b.normalization().backward(new NormBackwardRequest(req, saved, up(data(rows * c), xs),
                        null)));
                requireShape(g.dInput(), xs);
            }
        }

        // ------------------------------------------------------------------------------------------ rotary

        private void rotary() {
            int s = 1 + rnd.nextInt(8);
            int d = 2 * (1 + rnd.nextInt(8));
            int half = 1 + rnd.nextInt(d / 2);
            Shape xs = Shape.of(1, s, 2, d);
            DeviceTensor x = up(data(s * 2 * d), xs);
            DeviceTensor cos = up(data(s * half), Shape.of(s, half));
            DeviceTensor sin = up(data(s * half), Shape.of(s, half));
            int mutation = rnd.nextInt(8);
            description = "rotary S=" + s + " D=" + d + " half=" + half + " mutation " + mutation;
            mustFail = mutation <= 4;
            switch (mutation) {
                case 0 -> cos = zeros(Shape.of(s + 1, half), DType.F32);
                case 1 -> sin = zeros(Shape.of(s, half + 1), DType.F32);
                case 2 -> cos = zeros(Shape.of(s, d), DType.F32);                      // more pairs than D/2
                case 3 -> x = zeros(Shape.of(s, 2, d), DType.F32);
                case 4 -> cos = b.tensors().upload(new float[1], Shape.of(s, 1 << 30), DType.F32);
                default -> { }
            }
            DeviceTensor out = own(b.rotary().apply(new RotaryRequest(x, cos, sin, null,
                    rnd.nextBoolean() ? RotaryLayout.INTERLEAVED : RotaryLayout.SPLIT_HALF, rnd.nextBoolean())));
            requireShape(out, xs);
        }

        // ----------------------------------------------------------------------------------------- tensors

        private void tensors() {
            int mutation = rnd.nextInt(9);
            description = "tensors mutation " + mutation;
            mustFail = mutation <= 7;
            switch (mutation) {
                case 0 -> own(b.tensors().upload(new float[5], Shape.of(2, 3), DType.F32));
                case 1 -> own(b.tensors().upload(null, Shape.of(2), DType.F32));
                case 2 -> own(b.tensors().upload(new float[4], Shape.of(4), pick(DType.I32, DType.BOOL)));
                case 3 -> own(b.tensors().zeros(Shape.of(1 << 16, 1 << 16), DType.F32));
                case 4 -> b.tensors().download(foreignTensor(Shape.of(3)));
                case 5 -> {
                    DeviceTensor t = up(data(3), Shape.of(3));
                    t.close();
                    b.tensors().download(t);
                }
                case 6 -> b.tensors().downloadInts(up(data(3), Shape.of(3)));
                case 7 -> own(b.tensors().zeros(Shape.of(pick(0, -1, Integer.MIN_VALUE), 3), DType.F32));
                default -> {
                    float[] values = data(7);
                    float[] back = b.tensors().download(up(values, Shape.of(7)));
                    if (!java.util.Arrays.equals(values, back)) {
                        throw new AssertionError("download differs from upload");
                    }
                    checkedCorrect = true;
                }
            }
        }

        // ------------------------------------------------------------------------------------- model ports

        /**
         * One request to a model port (docs/design.md §9) or a device-side tensor operation, from a small valid one:
         * left valid (a linear forward, an add and a uniform fill are then checked against the oracle), or with one
         * mutation (shapes, dtypes, closed and foreign tensors, non-finite scalars, ids and targets out of range, an
         * accumulator that is an input, a view out of range or misaligned, an overlapping copy, sizes past the limits,
         * nulls). A backend that does not declare the port answers UnsupportedCapabilityException, an attn4j error.
         */
        private void modelOp() {
            int rows = 1 + rnd.nextInt(9);
            int in = 1 + rnd.nextInt(12);
            int out = 1 + rnd.nextInt(10);
            int op = rnd.nextInt(12);
            int mutation = rnd.nextInt(10);
            boolean valid = mutation >= 6;
            mustFail = !valid;
            description = "model op " + op + " rows=" + rows + " in=" + in + " out=" + out + " mutation " + mutation;
            Shape xs = Shape.of(rows, in);
            float[] xv = data(rows * in);
            DeviceTensor x = up(xv, xs);
            switch (op) {
                case 0 -> {                                                            // linear forward / backward
                    float[] wv = data(out * in);
                    DeviceTensor w = up(wv, Shape.of(out, in));
                    DeviceTensor bias = rnd.nextBoolean() ? up(data(out), Shape.of(out)) : null;
                    switch (mutation) {
                        case 0 -> w = zeros(Shape.of(out, in + 1), DType.F32);
                        case 1 -> x = zeros(xs, pick(DType.I32, DType.BOOL));
                        case 2 -> w.close();
                        case 3 -> w = foreignTensor(Shape.of(out, in));
                        case 4 -> bias = zeros(Shape.of(out + 1), DType.F32);
                        case 5 -> x = null;
                        default -> { }
                    }
                    LinearRequest fwd = LinearRequest.of(x, w, bias);
                    if (rnd.nextBoolean()) {
                        DeviceTensor y = own(b.linear().forward(fwd));
                        requireShape(y, Shape.of(rows, out));
                        if (valid) {
                            double[] bd = bias == null ? null : wide(b.tensors().download(bias));
                            check("y", LinearOracle.forward(wide(xv), rows, in, wide(wv), WeightLayout.OUT_IN, out, bd,
                                    Precision.FP64), LinearOracle.forward(wide(xv), rows, in, wide(wv), WeightLayout.OUT_IN,
                                    out, bd, Precision.of(DType.F32)), b.tensors().download(y));
                        }
                    } else {
                        DeviceTensor dW = valid && rnd.nextBoolean() ? w : zeros(Shape.of(out, in), DType.F32);
                        mustFail |= dW == w;                                           // an accumulator that is an input
                        DeviceTensor dx = own(b.linear().backward(new LinearBackwardRequest(fwd,
                                up(data(rows * out), Shape.of(rows, out)), true, dW, null)));
                        requireShape(dx, xs);
                    }
                }
                case 1 -> {                                                            // matmul
                    DeviceTensor c = zeros(Shape.of(rows, out), DType.F32);
                    DeviceTensor w = up(data(in * out), Shape.of(in, out));
                    float alpha = 1f;
                    switch (mutation) {
                        case 0 -> w = zeros(Shape.of(in + 1, out), DType.F32);
                        case 1 -> c = x;                                               // C is A
                        case 2 -> alpha = pick(Float.NaN, Float.POSITIVE_INFINITY);
                        case 3 -> c = zeros(Shape.of(2, rows, out), DType.F32);        // ranks differ
                        case 4 -> c.close();
                        case 5 -> w = foreignTensor(Shape.of(in, out));
                        default -> { }
                    }
                    b.linear().matmul(new MatmulRequest(x, false, w, false, c, alpha, 0f));
                }
                case 2 -> {                                                            // activations and GLUs
                    Activation f = pick(Activation.values());
                    boolean glu = rnd.nextBoolean();
                    boolean split = glu && rnd.nextBoolean();                          // value and gate apart
                    DeviceTensor gateIn = split ? up(data(rows * in), xs) : null;
                    if (glu && !split) {
                        x = up(data(rows * 2 * in), Shape.of(rows, 2 * in));           // the two halves
                    }
                    switch (mutation) {
                        case 0 -> x = zeros(x.shape(), DType.I32);
                        case 1 -> x.close();
                        case 2 -> {
                            if (split) gateIn = foreignTensor(xs);
                            else x = foreignTensor(x.shape());
                        }
                        case 3 -> {
                            if (split) {
                                gateIn = zeros(Shape.of(rows, in + 1), DType.F32);     // halves of two shapes
                            } else {
                                x = zeros(Shape.of(rows, 2 * in + 1), DType.F32);      // odd: no GLU halves
                                glu = true;
                            }
                        }
                        case 4 -> f = null;
                        case 5 -> {
                            if (split) gateIn.close();
                            else x = null;
                        }
                        default -> { }
                    }
                    if (glu) {
                        GluRequest r = split ? GluRequest.split(f, x, gateIn) : new GluRequest(f, x);
                        DeviceTensor y = own(b.activation().glu(r));
                        requireShape(y, r.outputShape());
                        requireShape(own(b.activation().gluBackward(new GluBackwardRequest(r, up(data(
                                Math.toIntExact(r.outputShape().elementCount())), r.outputShape())))),
                                r.gradientShape());
                    } else {
                        ActivationRequest r = new ActivationRequest(f, x);
                        requireShape(own(b.activation().forward(r)), xs);
                        requireShape(own(b.activation().backward(new ActivationBackwardRequest(r, up(data(rows * in), xs)))),
                                xs);
                    }
                }
                case 3 -> {                                                            // add, axpy, scale
                    float[] yv = data(rows * in);
                    DeviceTensor y = up(yv, xs);
                    float alpha = 0.5f;
                    switch (mutation) {
                        case 0 -> y = zeros(Shape.of(rows, in + 1), DType.F32);
                        case 1 -> y = zeros(xs, DType.BF16);
                        case 2 -> alpha = pick(Float.NaN, Float.NEGATIVE_INFINITY);
                        case 3 -> y.close();
                        case 4 -> y = foreignTensor(xs);
                        case 5 -> y = null;
                        default -> { }
                    }
                    int which = rnd.nextInt(3);
                    if (which == 2 && mutation <= 1) {
                        which = 0;                                                     // y alone is a valid scale
                    }
                    switch (which) {
                        case 0 -> {
                            DeviceTensor sum = own(b.elementwise().add(new AddRequest(x, y, alpha)));
                            if (valid) {
                                check("a + alpha·b", ElementwiseOracle.add(wide(xv), wide(yv), alpha, Precision.FP64),
                                        ElementwiseOracle.add(wide(xv), wide(yv), alpha, Precision.of(DType.F32)),
                                        b.tensors().download(sum));
                            }
                        }
                        case 1 -> b.elementwise().axpy(new AxpyRequest(alpha, x, y));
                        default -> b.elementwise().scale(new ScaleRequest(y, alpha));
                    }
                }
                case 4 -> {                                                            // broadcast multiply
                    BroadcastAxis axis = pick(BroadcastAxis.values());
                    int length = axis == BroadcastAxis.COLUMNS ? in : rows;
                    DeviceTensor v = up(data(length), Shape.of(length));
                    DeviceTensor grad = zeros(Shape.of(length), DType.F32);
                    switch (mutation) {
                        case 0 -> v = zeros(Shape.of(length + 1), DType.F32);
                        case 1 -> grad = v;                                            // the accumulator is v
                        case 2 -> v = x;
                        case 3 -> grad = zeros(Shape.of(length), DType.F16);
                        case 4 -> grad.close();
                        case 5 -> axis = null;
                        default -> { }
                    }
                    BroadcastMultiplyRequest r = new BroadcastMultiplyRequest(x, v, axis);
                    requireShape(own(b.elementwise().multiply(r)), xs);
                    DeviceTensor dx = b.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(r,
                            up(data(rows * in), xs), rnd.nextBoolean(), grad));
                    if (dx != null) {                                                  // null when dx is not asked
                        requireShape(own(dx), xs);
                    }
                }
                case 5 -> {                                                            // token shift
                    int seq = rows;
                    Shape s3 = Shape.of(1, seq, in);
                    DeviceTensor x3 = up(data(seq * in), s3);
                    int begin = rnd.nextInt(in);
                    int count = 1 + rnd.nextInt(in - begin);
                    int amount = pick(1, 2, -1, -3, 1000, Integer.MAX_VALUE);
                    DeviceTensor segments = rnd.nextBoolean() ? ints(segments(seq), Shape.of(1, seq)) : null;
                    switch (mutation) {
                        case 0 -> begin = pick(-1, in, Integer.MIN_VALUE);
                        case 1 -> count = pick(0, in - begin + 1, Integer.MAX_VALUE);
                        case 2 -> amount = Integer.MIN_VALUE;
                        case 3 -> segments = ints(new int[seq + 1], Shape.of(1, seq + 1));
                        case 4 -> x3 = x;                                              // rank 2
                        case 5 -> segments = zeros(Shape.of(1, seq), DType.F32);
                        default -> { }
                    }
                    requireShape(own(b.elementwise().shiftTokens(new TokenShiftRequest(x3, begin, count, amount, segments))),
                            s3);
                }
                case 6 -> {                                                            // embedding
                    int v = 1 + rnd.nextInt(20);
                    DeviceTensor table = up(data(v * in), Shape.of(v, in));
                    int[] idv = new int[rows];
                    for (int i = 0; i < rows; i++) idv[i] = rnd.nextInt(v);
                    DeviceTensor tableGrad = zeros(Shape.of(v, in), DType.F32);
                    switch (mutation) {
                        case 0 -> idv[rnd.nextInt(rows)] = pick(v, -1, Integer.MAX_VALUE, Integer.MIN_VALUE);
                        case 1 -> table = zeros(Shape.of(v, in, 1), DType.F32);
                        case 2 -> tableGrad = table;
                        case 3 -> tableGrad = zeros(Shape.of(v + 1, in), DType.F32);
                        case 4 -> table.close();
                        case 5 -> table = foreignTensor(Shape.of(v, in));
                        default -> { }
                    }
                    DeviceTensor ids = ints(idv, Shape.of(rows));
                    EmbeddingRequest r = new EmbeddingRequest(table, ids);
                    DeviceTensor y = own(b.embedding().forward(r));
                    requireShape(y, Shape.of(rows, in));
                    b.embedding().backward(new EmbeddingBackwardRequest(r, y, tableGrad));
                }
                case 7 -> {                                                            // fused cross-entropy
                    int v = 2 + rnd.nextInt(30);
                    DeviceTensor w = up(data(v * in), Shape.of(v, in));
                    int[] tv = new int[rows];
                    for (int i = 0; i < rows; i++) tv[i] = rnd.nextInt(4) == 0 ? CrossEntropyRequest.IGNORE_INDEX : rnd.nextInt(v);
                    DeviceTensor dW = zeros(Shape.of(v, in), DType.F32);
                    float scale = 1f / rows;
                    switch (mutation) {
                        case 0 -> tv[rnd.nextInt(rows)] = pick(v, -1, -99, Integer.MAX_VALUE);
                        case 1 -> scale = pick(-1f, Float.NaN, Float.POSITIVE_INFINITY);
                        case 2 -> dW = w;
                        case 3 -> w = zeros(Shape.of(v, in + 1), DType.F32);
                        case 4 -> dW.close();
                        case 5 -> w = foreignTensor(Shape.of(v, in));
                        default -> { }
                    }
                    DeviceTensor targets = ints(tv, Shape.of(rows));
                    CrossEntropyResult r = own(b.loss().linearCrossEntropy(CrossEntropyRequest.training(x, w, null,
                            targets, scale, dW, null)));
                    requireShape(r.dHidden(), xs);
                    requireShape(r.lossSum(), Shape.of(1));
                }
                case 8 -> {                                                            // AdamW and sums of squares
                    Shape ps = Shape.of(rows, in);
                    DeviceTensor p = up(data(rows * in), ps);
                    DeviceTensor g = up(data(rows * in), ps);
                    DeviceTensor m = zeros(ps, DType.F32);
                    DeviceTensor v = zeros(ps, DType.F32);
                    DeviceTensor ss = zeros(Shape.of(1), DType.F32);
                    long step = 1 + rnd.nextInt(100);
                    float lr = 1e-3f;
                    float beta1 = 0.9f;
                    switch (mutation) {
                        case 0 -> step = pick(0L, -1L, Long.MIN_VALUE);
                        case 1 -> lr = pick(-1f, Float.NaN, Float.POSITIVE_INFINITY);
                        case 2 -> beta1 = pick(1f, -0.5f, Float.NaN);
                        case 3 -> m = p;                                               // one tensor twice
                        case 4 -> g = zeros(ps, DType.BF16);
                        case 5 -> ss = zeros(Shape.of(2), DType.F32);
                        default -> { }
                    }
                    b.optimizer().sumOfSquares(new SumOfSquaresRequest(g, ss));
                    b.optimizer().adamW(new AdamWRequest(p, g, m, v, step, lr, beta1, 0.999f, 1e-8f, 0.01f,
                            rnd.nextBoolean() ? new GradientClip(1f, ss) : null));
                }
                case 9 -> {                                                            // uniform
                    DeviceTensor t = x;
                    float low = -1f;
                    float high = 1f;
                    switch (mutation) {
                        case 0 -> high = -2f;
                        case 1 -> low = pick(Float.NaN, Float.NEGATIVE_INFINITY);
                        case 2 -> {
                            low = -Float.MAX_VALUE;
                            high = Float.MAX_VALUE;                                    // high − low overflows
                        }
                        case 3 -> t = zeros(xs, DType.I32);
                        case 4 -> t.close();
                        case 5 -> t = foreignTensor(xs);
                        default -> { }
                    }
                    long seed = rnd.nextLong();
                    long offset = rnd.nextLong();
                    b.random().uniform(new UniformRequest(t, low, high, seed, offset));
                    if (valid) {
                        double[] want = RandomOracle.uniform(rows * in, low, high, seed, offset, DType.F32);
                        PassRule.Check c = PassRule.exact("uniform", want, b.tensors().download(t));
                        if (!c.passed()) {
                            throw new AssertionError("wrong result: " + c.describe());
                        }
                        checkedCorrect = true;
                    }
                }
                case 10 -> {                                                           // view and copy
                    int align = b.capabilities().port(TensorCapabilities.class).map(TensorCapabilities::viewAlignment)
                            .orElse(1);
                    DeviceTensor base = up(data(2 * align + rows * in), Shape.of(2 * align + rows * in));
                    long offset = align;
                    Shape shape = xs;
                    switch (mutation) {
                        case 0 -> offset = pick(-1L, (long) Integer.MAX_VALUE * 4, 3L * align + rows * in);
                        case 1 -> shape = Shape.of(rows + 2 * align, in + 1);          // past the end
                        case 2 -> {
                            offset = 1;
                            mustFail = align > 1;                                      // misaligned where it matters
                        }
                        case 3 -> base.close();
                        case 4 -> base = foreignTensor(Shape.of(2 * align + rows * in));
                        case 5 -> shape = null;
                        default -> { }
                    }
                    DeviceTensor view = own(b.tensors().view(base, offset, shape));
                    requireShape(view, shape);
                    int n = rows * in;
                    int cols = rnd.nextInt(4) == 0 ? n + 1 : n;                        // n + 1: past x's end
                    mustFail |= cols > n;
                    b.tensors().copy(new CopyRequest(x, 0, n, base, 0, n, 1, cols));
                }
                default -> {                                                           // cast and fill
                    DType to = pick(DType.F32, DType.BF16, DType.F16);
                    float value = 0.1f;
                    switch (mutation) {
                        case 0 -> to = pick(DType.I32, DType.BOOL);
                        case 1 -> x = zeros(xs, DType.I32);
                        case 2 -> x.close();
                        case 3 -> x = foreignTensor(xs);
                        case 4 -> to = null;
                        case 5 -> x = null;
                        default -> { }
                    }
                    DeviceTensor cast = own(b.tensors().cast(x, to));
                    requireShape(cast, xs);
                    b.tensors().fill(cast, value);
                }
            }
        }

        private int[] segments(int seq) {
            int[] s = new int[seq];
            for (int i = 0; i < seq; i++) s[i] = rnd.nextInt(4) == 0 ? -1 : i * 3 / Math.max(1, seq);
            return s;
        }

        private void check(String name, double[] golden, double[] ref, float[] actual) {
            PassRule.Check c = PassRule.check(name, golden, ref, actual, DType.F32);
            if (!c.passed()) {
                throw new AssertionError("wrong result: " + c.describe());
            }
            checkedCorrect = true;
        }

        // --------------------------------------------------------------------------------------- plumbing

        private float[] data(int n) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            return a;
        }

        private static double[] wide(float[] a) {
            double[] d = new double[a.length];
            for (int i = 0; i < a.length; i++) d[i] = a[i];
            return d;
        }

        private DeviceTensor up(float[] data, Shape shape) {
            return own(b.tensors().upload(data, shape, DType.F32));
        }

        private DeviceTensor zeros(Shape shape, DType dtype) {
            return own(b.tensors().zeros(shape, dtype));
        }

        private DeviceTensor ints(int[] values, Shape shape) {
            return own(b.tensors().uploadInts(values, shape));
        }

        private DeviceTensor bools(Shape shape) {
            return own(b.tensors().uploadBools(new boolean[Math.toIntExact(shape.elementCount())], shape));
        }

        private DeviceTensor foreignTensor(Shape shape) {
            return own(foreign.tensors().zeros(shape, DType.F32));
        }

        private <T extends AutoCloseable> T own(T t) {
            made.push(t);
            return t;
        }

        @SafeVarargs
        private <T> T pick(T... options) {
            return options[rnd.nextInt(options.length)];
        }

        private static void requireShape(DeviceTensor t, Shape expected) {
            if (!t.shape().equals(expected)) {
                throw new AssertionError("output of shape " + t.shape() + ", expected " + expected);
            }
        }

        @Override
        public void close() {
            while (!made.isEmpty()) {
                try {
                    made.pop().close();
                } catch (Exception e) {
                    throw new AssertionError("closing a tensor failed: " + e, e);
                }
            }
        }
    }
}
