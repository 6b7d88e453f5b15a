package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One broadcast multiply of the suite, {@code y = x ⊙ v} with {@code v} per column or per row of {@code x} viewed
 * as {@code [rows, C]}, and its backward ({@code dx}, the vector's gradient added into an accumulator that starts
 * non-zero).
 *
 * <pre>{@code
 * BroadcastMultiplyConfig c = BroadcastMultiplyConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index      position among these configurations (part of the id)
 * @param shape      {@code x}'s shape
 * @param axis       how {@code v} is broadcast
 * @param inputGrad  whether backward returns {@code dx}
 * @param vectorGrad whether backward adds into the vector's accumulator
 * @param dtype      storage type
 * @param dataSeed   seed of the inputs
 */
public record BroadcastMultiplyConfig(int index, Shape shape, BroadcastAxis axis, boolean inputGrad, boolean vectorGrad,
                                      DType dtype, long dataSeed) implements CaseConfig {

    /**
     * Host data.
     *
     * @param x   the input
     * @param v   the vector
     * @param dy  the upstream gradient
     * @param dv0 the vector accumulator's starting value
     */
    public record Data(double[] x, double[] v, double[] dy, double[] dv0) {
    }

    /** Checks that backward asks for something. */
    public BroadcastMultiplyConfig {
        if (!inputGrad && !vectorGrad) {
            throw new IllegalArgumentException("backward must ask for dx or the vector's gradient");
        }
    }

    /**

     * Both axes, ranks 1 to 3, each backward combination; one BF16 and one F16.

     *

     * @param seed the suite's seed (the configurations' data seeds are drawn from it)

     * @return the configurations

     */
    public static List<BroadcastMultiplyConfig> standard(long seed) {
        Random r = new Random(seed ^ 0xB20AD7L);
        Object[][] rows = {
                {Shape.of(1), BroadcastAxis.COLUMNS, true, true, DType.F32},
                {Shape.of(3, 17), BroadcastAxis.COLUMNS, true, true, DType.F32},
                {Shape.of(3, 17), BroadcastAxis.ROWS, true, true, DType.F32},
                {Shape.of(2, 5, 33), BroadcastAxis.ROWS, false, true, DType.F32},
                {Shape.of(2, 5, 33), BroadcastAxis.COLUMNS, true, false, DType.F32},
                {Shape.of(130, 7), BroadcastAxis.ROWS, true, true, DType.F32},
                {Shape.of(4, 129), BroadcastAxis.COLUMNS, true, true, DType.F32},
                {Shape.of(6, 10), BroadcastAxis.COLUMNS, true, true, DType.BF16},
                {Shape.of(5, 3, 7), BroadcastAxis.ROWS, true, true, DType.F16},
        };
        List<BroadcastMultiplyConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Object[] c = rows[i];
            out.add(new BroadcastMultiplyConfig(i, (Shape) c[0], (BroadcastAxis) c[1], (boolean) c[2], (boolean) c[3],
                    (DType) c[4], r.nextLong()));
        }
        return out;
    }

    /** {@return {@code C}, the last dimension} */
    public int cols() {
        return shape.dim(-1);
    }

    /** {@return the vector's length} */
    public int vectorLength() {
        return axis == BroadcastAxis.COLUMNS ? cols() : Draw.count(shape) / cols();
    }

    /** {@return the ops: forward, then backward} */
    @Override
    public List<Op> ops() {
        return List.of(Op.BROADCAST_MULTIPLY_FORWARD, Op.BROADCAST_MULTIPLY_BACKWARD);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return BroadcastMultiplyRunner.run(this, checked(op) == Op.BROADCAST_MULTIPLY_BACKWARD, backend);
    }

    /** {@return A stable, readable id, e.g. {@code v002 3x17 rows dx+dv f32}} */
    @Override
    public String id() {
        String grads = (inputGrad ? "dx" : "") + (vectorGrad ? (inputGrad ? "+" : "") + "dv" : "");
        return String.format("v%03d %s %s %s %s", index, Draw.dims(shape), axis.name().toLowerCase(java.util.Locale.ROOT),
                grads, Draw.dtype(dtype));
    }

    /** {@return regenerates the data from {@code dataSeed}} */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        int n = Draw.count(shape);
        return new Data(Draw.gaussian(r, n, 1, store), Draw.gaussian(r, vectorLength(), 1, store),
                Draw.gaussian(r, n, 1, store), Draw.gaussian(r, vectorLength(), 0.5, store));
    }
}
