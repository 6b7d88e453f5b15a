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
 * One shape and scalar for the three simple element-wise ops: {@code add} ({@code a + alpha·b}), {@code axpy}
 * ({@code y += alpha·x} in place) and {@code scale} ({@code x *= alpha} in place).
 *
 * <pre>{@code
 * ElementwiseConfig c = ElementwiseConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index    position among these configurations (part of the id)
 * @param shape    every tensor's shape
 * @param alpha    the scalar (a float)
 * @param dtype    storage type
 * @param dataSeed seed of the inputs
 */
public record ElementwiseConfig(int index, Shape shape, float alpha, DType dtype, long dataSeed) implements CaseConfig {

    /**
     * Host data, two tensors of {@code shape}.
     *
     * @param a the first ({@code x} of scale, {@code x} of axpy)
     * @param b the second ({@code y} of axpy)
     */
    public record Data(double[] a, double[] b) {
    }

    /**

     * One element, odd sizes, a large tensor of a prime count, several alphas; one BF16 and one F16.

     *

     * @param seed the suite's seed (the configurations' data seeds are drawn from it)

     * @return the configurations

     */
    public static List<ElementwiseConfig> standard(long seed) {
        Random r = new Random(seed ^ 0xE1E7L);
        Object[][] rows = {
                {Shape.of(1), 1f, DType.F32}, {Shape.of(7), -0.5f, DType.F32}, {Shape.of(3, 17), 2f, DType.F32},
                {Shape.of(2, 5, 33), 0.37f, DType.F32}, {Shape.of(1031), -3f, DType.F32}, {Shape.of(64, 65), 1f, DType.F32},
                {Shape.of(9, 13), 0.5f, DType.BF16}, {Shape.of(4, 31), -1.25f, DType.F16},
        };
        List<ElementwiseConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            out.add(new ElementwiseConfig(i, (Shape) rows[i][0], (float) rows[i][1], (DType) rows[i][2], r.nextLong()));
        }
        return out;
    }

    /** {@return the ops: {@code add}, {@code axpy}, {@code scale}} */
    @Override
    public List<Op> ops() {
        return List.of(Op.ADD, Op.AXPY, Op.SCALE);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return ElementwiseRunner.run(this, checked(op), backend);
    }

    /** {@return A stable, readable id, e.g. {@code e003 2x5x33 alpha(0.37) f32}} */
    @Override
    public String id() {
        return String.format("e%03d %s alpha(%s) %s", index, Draw.dims(shape), alpha, Draw.dtype(dtype));
    }

    /** {@return regenerates the data from {@code dataSeed}} */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        int n = Draw.count(shape);
        return new Data(Draw.gaussian(r, n, 1, store), Draw.gaussian(r, n, 1, store));
    }
}
