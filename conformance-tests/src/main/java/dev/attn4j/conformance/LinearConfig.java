package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One linear layer of the suite: {@code x [lead..., in]}, a weight in either layout, an optional bias, and which
 * gradients its backward asks for. The backward adds into accumulators that start non-zero, so "adds into" is
 * checked, not assumed.
 *
 * <pre>{@code
 * LinearConfig c = LinearConfig.standard(ConformanceSuite.SEED).getFirst();
 * LinearConfig.Data d = c.data();
 * }</pre>
 *
 * @param index      position among the linear configurations (part of the id)
 * @param lead       the leading dimensions of {@code x} (its rows)
 * @param in         input features
 * @param out        output features
 * @param bias       whether the layer has a bias
 * @param layout     how the weight is stored
 * @param inputGrad  whether backward returns {@code dx}
 * @param weightGrad whether backward adds into a weight accumulator (false: a frozen weight)
 * @param biasGrad   whether backward adds into a bias accumulator (only with a bias)
 * @param dtype      storage type of every tensor
 * @param dataSeed   seed of the inputs
 */
public record LinearConfig(int index, Shape lead, int in, int out, boolean bias, WeightLayout layout, boolean inputGrad,
                           boolean weightGrad, boolean biasGrad, DType dtype, long dataSeed) implements CaseConfig {

    /**
     * Host data, rounded to {@code dtype}.
     *
     * @param x   {@code [rows, in]}
     * @param w   the weight in {@code layout}
     * @param b   {@code [out]} or {@code null}
     * @param dy  {@code [rows, out]}
     * @param dW0 the weight accumulator's starting value
     * @param db0 the bias accumulator's starting value
     */
    public record Data(double[] x, double[] w, double[] b, double[] dy, double[] dW0, double[] db0) {
    }

    /** Checks the combination. */
    public LinearConfig {
        if (in < 1 || out < 1 || lead.elementCount() < 1) {
            throw new IllegalArgumentException("sizes must be >= 1");
        }
        if (biasGrad && !bias) {
            throw new IllegalArgumentException("biasGrad needs a bias");
        }
        if (!inputGrad && !weightGrad && !biasGrad) {
            throw new IllegalArgumentException("backward must ask for something");
        }
    }

    /**
     * The standard linear configurations: single elements, primes and sizes next to tile multiples, both layouts,
     * with and without bias, every backward combination (all gradients, frozen weight, weight only, bias only),
     * rank 2 to 4 inputs; then one BF16 and one F16 configuration.
     *
     * @param seed the suite's seed (the configurations' data seeds are drawn from it)
     * @return the configurations
     */
    public static List<LinearConfig> standard(long seed) {
        Random r = new Random(seed ^ 0x11AE_A125L);
        Object[][] rows = {
                // lead, in, out, bias, layout, dx, dW, db, dtype
                {Shape.of(1), 1, 1, true, WeightLayout.OUT_IN, true, true, true, DType.F32},
                {Shape.of(7), 13, 5, false, WeightLayout.OUT_IN, true, true, false, DType.F32},
                {Shape.of(2, 9), 31, 17, true, WeightLayout.IN_OUT, true, true, true, DType.F32},
                {Shape.of(3, 5), 64, 67, true, WeightLayout.OUT_IN, true, true, true, DType.F32},
                {Shape.of(1, 1), 129, 3, true, WeightLayout.OUT_IN, true, false, false, DType.F32},
                {Shape.of(37), 97, 65, false, WeightLayout.IN_OUT, false, true, false, DType.F32},
                {Shape.of(4, 17), 16, 1, true, WeightLayout.OUT_IN, false, false, true, DType.F32},
                {Shape.of(5), 200, 130, true, WeightLayout.OUT_IN, true, true, true, DType.F32},
                {Shape.of(2, 3, 11), 33, 63, true, WeightLayout.IN_OUT, true, true, true, DType.F32},
                {Shape.of(61), 1, 29, false, WeightLayout.OUT_IN, true, true, false, DType.F32},
                {Shape.of(6), 48, 40, true, WeightLayout.OUT_IN, true, true, true, DType.BF16},
                {Shape.of(3, 7), 19, 23, true, WeightLayout.IN_OUT, true, true, true, DType.F16},
        };
        List<LinearConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Object[] c = rows[i];
            out.add(new LinearConfig(i, (Shape) c[0], (int) c[1], (int) c[2], (boolean) c[3], (WeightLayout) c[4],
                    (boolean) c[5], (boolean) c[6], (boolean) c[7], (DType) c[8], r.nextLong()));
        }
        return out;
    }

    /** {@return rows: the product of the leading dimensions} */
    public int rows() {
        return Draw.count(lead);
    }

    /** {@return the weight's shape in its layout} */
    public Shape weightShape() {
        return layout == WeightLayout.OUT_IN ? Shape.of(out, in) : Shape.of(in, out);
    }

    /** {@return the ops: forward, then backward} */
    @Override
    public List<Op> ops() {
        return List.of(Op.LINEAR_FORWARD, Op.LINEAR_BACKWARD);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return LinearRunner.run(this, checked(op) == Op.LINEAR_BACKWARD, backend);
    }

    /** {@return A stable, readable id, e.g. {@code l002 x2x9 in31 out17 bias in_out dx+dW+db f32}} */
    @Override
    public String id() {
        String grads = (inputGrad ? "dx" : "") + (weightGrad ? (inputGrad ? "+" : "") + "dW" : "")
                + (biasGrad ? (inputGrad || weightGrad ? "+" : "") + "db" : "");
        return String.format("l%03d x%s in%d out%d %s %s %s%s %s", index, Draw.dims(lead), in, out,
                bias ? "bias" : "no-bias", layout == WeightLayout.OUT_IN ? "out_in" : "in_out", grads,
                weightGrad ? "" : " frozen", Draw.dtype(dtype));
    }

    /** {@return regenerates the data from {@code dataSeed}} */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        // weights ~ 1/sqrt(in), as an initialised layer, so outputs stay of order one whatever the width
        double[] x = Draw.gaussian(r, rows() * in, 1, store);
        double[] w = Draw.gaussian(r, out * in, 1 / Math.sqrt(in), store);
        double[] b = bias ? Draw.gaussian(r, out, 0.5, store) : null;
        double[] dy = Draw.gaussian(r, rows() * out, 1, store);
        double[] dW0 = Draw.gaussian(r, out * in, 0.5, store);
        double[] db0 = bias ? Draw.gaussian(r, out, 0.5, store) : null;
        return new Data(x, w, b, dy, dW0, db0);
    }
}
