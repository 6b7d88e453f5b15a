package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One fused linear cross-entropy of the suite: hidden rows {@code [lead..., d]}, an output projection
 * {@code [V, d]} with or without bias, targets with some rows set to the ignore index, and which outputs are asked
 * for. Gradient accumulators start non-zero. A bias may ban a prefix of the vocabulary with {@code −∞} (as a sampler's
 * banned tokens, or a vocabulary padded to a round size): their probabilities are exactly 0. {@code gradScale} is either given or, when {@code meanScale}, one over
 * the counted rows (the mean loss's gradient, as {@code F.cross_entropy} computes it).
 *
 * <pre>{@code
 * CrossEntropyConfig c = CrossEntropyConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index        position among these configurations (part of the id)
 * @param lead         the hidden rows' leading shape (the targets' shape)
 * @param d            hidden width
 * @param vocab        V
 * @param bias         whether the projection has a bias
 * @param ignoreEvery  every this many rows are ignored (0: none; 1: all)
 * @param ignoreIndex  the negative target that marks an ignored row
 * @param gradScale    the gradients' factor, unless {@code meanScale}
 * @param meanScale    whether the factor is {@code 1 / count}
 * @param inputGrad    whether {@code dHidden} is asked for
 * @param weightGrad   whether the weight's gradient is accumulated
 * @param biasGrad     whether the bias's gradient is accumulated (only with a bias)
 * @param perToken     whether per-row losses are asked for
 * @param dtype        storage type of hidden, weight, bias and gradients
 * @param banned       the first this many vocabulary entries have a bias of {@code −∞} and are never a target
 * @param dataSeed     seed of the inputs
 */
public record CrossEntropyConfig(int index, Shape lead, int d, int vocab, boolean bias, int ignoreEvery, int ignoreIndex,
                                 float gradScale, boolean meanScale, boolean inputGrad, boolean weightGrad,
                                 boolean biasGrad, boolean perToken, DType dtype, int banned,
                                 long dataSeed) implements CaseConfig {

    /**
     * Host data.
     *
     * @param hidden  {@code [rows, d]}
     * @param weight  {@code [V, d]}
     * @param bias    {@code [V]}, or {@code null} without a bias
     * @param targets {@code [rows]}
     * @param dW0     the weight accumulator's starting value
     * @param db0     the bias accumulator's starting value ({@code null} without a bias)
     */
    public record Data(double[] hidden, double[] weight, double[] bias, int[] targets, double[] dW0, double[] db0) {
    }

    /** Checks the combination. */
    public CrossEntropyConfig {
        if (biasGrad && !bias) {
            throw new IllegalArgumentException("biasGrad needs a bias");
        }
        if (ignoreIndex >= 0) {
            throw new IllegalArgumentException("the ignore index is negative");
        }
        if (banned < 0 || banned >= vocab || (banned > 0 && !bias)) {
            throw new IllegalArgumentException("banned entries need a bias and leave at least one entry");
        }
    }

    /**
     * One row and two classes, odd widths and vocabularies up to 4099 (past any chunk size), ignored rows (none,
     * some, all), another ignore index, evaluation only, every gradient combination; one BF16 configuration; one
     * whose bias bans the first 600 of 2148 entries with {@code −∞} (past a whole 512-row block of a CPU vocabulary
     * range, where an online softmax's running maximum stays {@code −∞}).
     *
     * @param seed the suite's seed (the configurations' data seeds are drawn from it)
     * @return the configurations
     */
    public static List<CrossEntropyConfig> standard(long seed) {
        Random r = new Random(seed ^ 0xC2055E7L);
        int ii = -100;
        Object[][] rows = {
                // lead, d, V, bias, ignoreEvery, ignoreIndex, gradScale, mean, dx, dW, db, perToken, dtype, banned
                {Shape.of(1), 1, 2, true, 0, ii, 1f, false, true, true, true, true, DType.F32, 0},
                {Shape.of(7), 17, 5, false, 3, ii, 1f, true, true, true, false, false, DType.F32, 0},
                {Shape.of(2, 13), 31, 97, true, 4, ii, 1f, true, true, true, true, true, DType.F32, 0},
                {Shape.of(3, 5), 64, 1000, true, 5, ii, 1f, true, true, true, true, false, DType.F32, 0},
                {Shape.of(4), 16, 2053, false, 0, ii, 0f, false, false, false, false, true, DType.F32, 0},
                {Shape.of(9), 33, 130, true, 1, ii, 1f, false, true, true, true, true, DType.F32, 0},
                {Shape.of(5), 40, 301, true, 2, -1, 0.5f, false, true, false, false, false, DType.F32, 0},
                {Shape.of(2, 3), 24, 67, true, 0, ii, 0.25f, false, false, true, true, false, DType.F32, 0},
                {Shape.of(1, 64), 8, 4099, true, 7, ii, 1f, true, true, true, true, true, DType.F32, 0},
                {Shape.of(6), 32, 150, true, 3, ii, 1f, true, true, true, true, false, DType.BF16, 0},
                {Shape.of(11), 16, 2148, true, 4, ii, 1f, true, true, true, true, true, DType.F32, 600},
        };
        List<CrossEntropyConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Object[] c = rows[i];
            out.add(new CrossEntropyConfig(i, (Shape) c[0], (int) c[1], (int) c[2], (boolean) c[3], (int) c[4], (int) c[5],
                    (float) c[6], (boolean) c[7], (boolean) c[8], (boolean) c[9], (boolean) c[10], (boolean) c[11],
                    (DType) c[12], (int) c[13], r.nextLong()));
        }
        return out;
    }

    /** {@return rows (tokens)} */
    public int rows() {
        return Draw.count(lead);
    }

    /**
     * {@return whether row {@code t} is ignored}
     *
     * @param t the row
     */
    public boolean ignored(int t) {
        return ignoreEvery > 0 && t % ignoreEvery == ignoreEvery - 1;
    }

    /** {@return counted rows} */
    public int counted() {
        int n = 0;
        for (int t = 0; t < rows(); t++) {
            n += ignored(t) ? 0 : 1;
        }
        return n;
    }

    /** {@return the gradients' factor the request carries (a float)} */
    public float resolvedGradScale() {
        return meanScale ? (counted() == 0 ? 0f : 1f / counted()) : gradScale;
    }

    /** {@return the ops: the one op} */
    @Override
    public List<Op> ops() {
        return List.of(Op.LINEAR_CROSS_ENTROPY);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        checked(op);
        return CrossEntropyRunner.run(this, backend);
    }

    /** {@return A stable, readable id, e.g. {@code c002 h2x13 d31 v97 bias ignore(1/4) mean dh+dW+db+loss f32}} */
    @Override
    public String id() {
        String wants = String.join("+", java.util.stream.Stream.of(inputGrad ? "dh" : null, weightGrad ? "dW" : null,
                biasGrad ? "db" : null, perToken ? "per-token" : null).filter(java.util.Objects::nonNull).toList());
        return String.format("c%03d h%s d%d v%d %s ignore(%s%s) %s %s %s", index, Draw.dims(lead), d, vocab,
                bias ? (banned > 0 ? "bias(-inf x" + banned + ")" : "bias") : "no-bias", ignoreEvery == 0 ? "none" : "1/" + ignoreEvery,
                ignoreIndex == -100 ? "" : " as " + ignoreIndex, meanScale ? "mean" : "scale(" + gradScale + ")",
                wants.isEmpty() ? "loss-only" : wants, Draw.dtype(dtype));
    }

    /** {@return regenerates the data from {@code dataSeed}} */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        double[] hidden = Draw.gaussian(r, rows() * d, 1, store);
        // a projection scaled as an initialised layer: logits of order one, softmax neither flat nor one-hot
        double[] weight = Draw.gaussian(r, vocab * d, 2 / Math.sqrt(d), store);
        double[] b = bias ? Draw.gaussian(r, vocab, 0.5, store) : null;
        if (banned > 0) {
            java.util.Arrays.fill(b, 0, banned, Double.NEGATIVE_INFINITY);
        }
        int[] targets = new int[rows()];
        for (int t = 0; t < targets.length; t++) {
            targets[t] = ignored(t) ? ignoreIndex : banned + r.nextInt(vocab - banned);
        }
        double[] dW0 = Draw.gaussian(r, vocab * d, 0.5, store);
        double[] db0 = bias ? Draw.gaussian(r, vocab, 0.5, store) : null;
        return new Data(hidden, weight, b, targets, dW0, db0);
    }
}
