package dev.attn4j.conformance;

import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionGrads;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.DenseBias;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A configuration of the non-finite rule ({@link AttentionOptions}' "Non-finite values"): NaN and infinities
 * placed in {@code q}, {@code k}, {@code v} or a dense bias where the rule fixes what every backend returns. The
 * expected outputs are the oracle's, which follows the same rule: every position where the float64 oracle gives
 * NaN must be NaN, and every other position must pass the usual {@link PassRule} (so an empty row's
 * {@code o = 0, lse = −∞} is matched exactly). A configuration has its backward op only where the rule fixes the
 * backward's NaN pattern: none reaches a gradient through a {@code 0·∞} term, which the rule leaves unspecified.
 * The configurations are fixed (their data is seeded by their names, not by the suite's seed).
 *
 * <pre>{@code
 * for (NonFiniteConfig c : NonFiniteConfig.standard(ConformanceSuite.SEED)) System.out.println(c.ops() + " " + c.id());
 * }</pre>
 *
 * @param name     what is non-finite and where ({@code nan_q}, {@code inf_k_causal}, ...)
 * @param backward whether the configuration is also checked backward ({@code dq, dk, dv})
 */
public record NonFiniteConfig(String name, boolean backward) implements CaseConfig {

    /** The configurations whose backward the rule fixes too. */
    private static final List<String> FORWARD_AND_BACKWARD = List.of("nan_q", "nan_v", "bias_inf", "neg_inf_k",
            "inf_k_all");
    /*
     * Forward only: inf_k_causal's backward meets 0·inf (a masked key's dS = 0 times its k), and softcap_inf_k's
     * dq is 0·inf by the chain rule itself (d logit / d raw = 0 at raw = +inf), both unspecified by the rule.
     */
    private static final List<String> FORWARD_ONLY = List.of("softcap_inf_k", "inf_k_causal");

    /**
     * {@return every configuration: 5 checked forward and backward, 2 forward only (12 cases)}
     *
     * @param seed ignored: the configurations are fixed
     */
    public static List<NonFiniteConfig> standard(long seed) {
        List<NonFiniteConfig> configs = new ArrayList<>();
        for (String n : FORWARD_AND_BACKWARD) {
            configs.add(new NonFiniteConfig(n, true));
        }
        for (String n : FORWARD_ONLY) {
            configs.add(new NonFiniteConfig(n, false));
        }
        return configs;
    }

    @Override
    public String id() {
        return name;
    }

    @Override
    public DType dtype() {
        return DType.F32;
    }

    @Override
    public List<Op> ops() {
        return backward ? List.of(Op.ATTENTION_NONFINITE, Op.ATTENTION_NONFINITE_BACKWARD) : List.of(Op.ATTENTION_NONFINITE);
    }

    /** The problem and upstream gradient of one configuration, with its non-finite values placed. */
    record Setup(AttentionProblem problem, double[] dO) {
    }

    /** Builds the named configuration (seeded, so every run places the same values). */
    static Setup setup(String name) {
        Random rnd = new Random(name.hashCode());
        return switch (name) {
            case "nan_q" -> {
                // One NaN in q: its row is NaN (o, lse); backward: its dq row and its KV head's dk, dv.
                AttentionDims d = new AttentionDims(2, 19, 19, 4, 2, 16);
                Inputs in = Inputs.random(d, rnd);
                in.q[d.q(1, 7, 2, 5)] = Double.NaN;
                yield in.problem(false, 0, null);
            }
            case "nan_v" -> {
                // One NaN in v: feature 3 of every row of head 1 (p > 0 everywhere), lse finite.
                AttentionDims d = new AttentionDims(1, 11, 23, 2, 2, 16);
                Inputs in = Inputs.random(d, rnd);
                in.v[d.k(0, 4, 1, 3)] = Double.NaN;
                yield in.problem(false, 0, null);
            }
            case "bias_inf" -> {
                // Dense bias: a row of -inf (empty row), a +inf logit (NaN row), a row seeing one key only,
                // and one -inf logit that is just a masked key.
                AttentionDims d = new AttentionDims(1, 9, 14, 3, 3, 16);
                Inputs in = Inputs.random(d, rnd);
                double[] bias = new double[d.heads() * d.seqQ() * d.seqK()];
                for (int n = 0; n < bias.length; n++) {
                    bias[n] = (float) (rnd.nextGaussian() * 0.5);
                }
                for (int j = 0; j < d.seqK(); j++) {
                    bias[(0 * d.seqQ() + 2) * d.seqK() + j] = Double.NEGATIVE_INFINITY;
                    if (j < d.seqK() - 1) {
                        bias[(2 * d.seqQ() + 0) * d.seqK() + j] = Double.NEGATIVE_INFINITY;
                    }
                }
                bias[(1 * d.seqQ() + 5) * d.seqK() + 7] = Double.POSITIVE_INFINITY;
                bias[(2 * d.seqQ() + 4) * d.seqK() + 3] = Double.NEGATIVE_INFINITY;
                yield in.problem(false, 0, new DenseBias(1, d.heads(), bias));
            }
            case "softcap_inf_k" -> {
                // q > 0 and one key of +inf: its dot products are +inf, and the softcap maps them to c (finite rows).
                AttentionDims d = new AttentionDims(1, 13, 13, 2, 1, 16);
                Inputs in = Inputs.random(d, rnd);
                in.positiveQueries(rnd);
                for (int x = 0; x < d.headDim(); x++) {
                    in.k[d.k(0, 6, 0, x)] = Double.POSITIVE_INFINITY;
                }
                yield in.problem(false, 5.0, null);
            }
            case "neg_inf_k" -> {
                // q > 0 and every k = -inf: every logit is -inf, so every row is empty (o = 0, lse = -inf).
                AttentionDims d = new AttentionDims(1, 7, 10, 2, 2, 16);
                Inputs in = Inputs.random(d, rnd);
                in.positiveQueries(rnd);
                Arrays.fill(in.k, Double.NEGATIVE_INFINITY);
                yield in.problem(false, 0, null);
            }
            case "inf_k_all" -> {
                // Every k = +inf and q of both signs: inf - inf in every dot product, every row NaN.
                AttentionDims d = new AttentionDims(1, 6, 6, 2, 1, 16);
                Inputs in = Inputs.random(d, rnd);
                Arrays.fill(in.k, Double.POSITIVE_INFINITY);
                yield in.problem(false, 0, null);
            }
            case "inf_k_causal" -> {
                // Key 20 is +inf: the rows that see it (causal: i >= 20) are NaN, the rows it is masked for are
                // exact, though a tiled kernel may have computed (and then masked) their NaN logits.
                AttentionDims d = new AttentionDims(1, 37, 37, 2, 1, 40);
                Inputs in = Inputs.random(d, rnd);
                for (int x = 0; x < d.headDim(); x++) {
                    in.k[d.k(0, 20, 0, x)] = Double.POSITIVE_INFINITY;
                }
                yield in.problem(true, 0, null);
            }
            default -> throw new IllegalArgumentException("no non-finite case '" + name + "'");
        };
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        boolean checkBackward = checked(op) == Op.ATTENTION_NONFINITE_BACKWARD;
        Setup s = setup(name);
        AttentionProblem p = s.problem();
        AttentionDims d = p.dims();
        try (DeviceScope scope = new DeviceScope(backend)) {
            Shape qs = Shape.of(d.batch(), d.seqQ(), d.heads(), d.headDim());
            Shape ks = Shape.of(d.batch(), d.seqK(), d.kvHeads(), d.headDim());
            DeviceTensor q = scope.upload(p.q(), qs, DType.F32);
            DeviceTensor k = scope.upload(p.k(), ks, DType.F32);
            DeviceTensor v = scope.upload(p.v(), ks, DType.F32);
            AttentionOptions.Builder b = AttentionOptions.builder().scale(p.scale()).causal(p.causal())
                    .softcap(p.softcap());
            if (p.denseBias() != null) {
                b.denseBias(scope.upload(p.denseBias().values(),
                        Shape.of(p.denseBias().batches(), p.denseBias().heads(), d.seqQ(), d.seqK()), DType.F32));
            }
            AttentionOptions options = b.build();
            AttentionResult fwd = scope.track(backend.attention().forward(new AttentionRequest(q, k, v, options)));
            List<PassRule.Check> checks = new ArrayList<>();
            if (!checkBackward) {
                AttentionOutputs golden = AttentionOracle.forward(p, Precision.FP64);
                AttentionOutputs ref = AttentionOracle.forward(p, Precision.FP32);
                check(checks, "o", golden.o(), ref.o(), scope.download(fwd.o()));
                check(checks, "lse", golden.lse(), ref.lse(), scope.download(fwd.lse()));
                return checks;
            }
            DeviceTensor dO = scope.upload(s.dO(), qs, DType.F32);
            AttentionGradients g = scope.track(backend.attention().backward(
                    new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), options)));
            AttentionGrads golden = AttentionOracle.backward(p, s.dO(), Precision.FP64);
            AttentionGrads ref = AttentionOracle.backward(p, s.dO(), Precision.FP32);
            check(checks, "dq", golden.dq(), ref.dq(), scope.download(g.dq()));
            check(checks, "dk", golden.dk(), ref.dk(), scope.download(g.dk()));
            check(checks, "dv", golden.dv(), ref.dv(), scope.download(g.dv()));
            return checks;
        }
    }

    /**
     * Two checks per output: the NaN pattern (exactly the golden NaNs, which the fp32 ref must share, else the
     * case itself is wrong), and the pass rule on every other position.
     */
    static void check(List<PassRule.Check> checks, String output, double[] golden, double[] ref, float[] test) {
        if (golden.length != test.length) {
            throw new IllegalStateException(output + ": expected " + golden.length + " values, got " + test.length);
        }
        int mismatch = -1;
        int kept = 0;
        for (int n = 0; n < golden.length; n++) {
            if (Double.isNaN(golden[n]) != Double.isNaN(ref[n])) {
                throw new IllegalStateException("case error: the fp64 and fp32 oracles disagree on NaN at " + output
                        + "[" + n + "] (" + golden[n] + " vs " + ref[n] + ")");
            }
            if (Double.isNaN(golden[n]) != Float.isNaN(test[n]) && mismatch < 0) {
                mismatch = n;
            }
            if (!Double.isNaN(golden[n])) {
                kept++;
            }
        }
        checks.add(mismatch < 0
                ? new PassRule.Check(output + " NaN pattern", 0, 0, 1, -1, 0, 0, false)
                : new PassRule.Check(output + " NaN pattern", Double.POSITIVE_INFINITY, 0, 1, mismatch, golden[mismatch],
                        test[mismatch], false));
        if (kept == 0) {
            return;
        }
        double[] g = new double[kept];
        double[] r = new double[kept];
        float[] t = new float[kept];
        for (int n = 0, m = 0; n < golden.length; n++) {
            if (!Double.isNaN(golden[n])) {
                g[m] = golden[n];
                r[m] = ref[n];
                t[m] = test[n];
                m++;
            }
        }
        checks.add(PassRule.check(output + " (non-NaN positions)", g, r, t, DType.F32));
    }

    /** Random fp32-representable inputs of one configuration, edited in place before the problem is made. */
    private static final class Inputs {
        final AttentionDims d;
        final double[] q;
        final double[] k;
        final double[] v;
        final double[] dO;

        private Inputs(AttentionDims d, double[] q, double[] k, double[] v, double[] dO) {
            this.d = d;
            this.q = q;
            this.k = k;
            this.v = v;
            this.dO = dO;
        }

        static Inputs random(AttentionDims d, Random rnd) {
            return new Inputs(d, gaussian(rnd, d.querySize()), gaussian(rnd, d.keySize()), gaussian(rnd, d.keySize()),
                    gaussian(rnd, d.querySize()));
        }

        void positiveQueries(Random rnd) {
            fill(q, () -> (float) (0.1 + 0.9 * rnd.nextDouble()));
        }

        Setup problem(boolean causal, double softcap, DenseBias bias) {
            return new Setup(new AttentionProblem(d, q, k, v, (float) (1 / Math.sqrt(d.headDim())), causal, -1, -1,
                    softcap, null, null, bias, null, null, Dropout.NONE), dO);
        }

        private static void fill(double[] a, java.util.function.DoubleSupplier values) {
            for (int n = 0; n < a.length; n++) {
                a[n] = values.getAsDouble();
            }
        }

        private static double[] gaussian(Random rnd, int n) {
            double[] a = new double[n];
            fill(a, () -> (float) rnd.nextGaussian());
            return a;
        }
    }
}
