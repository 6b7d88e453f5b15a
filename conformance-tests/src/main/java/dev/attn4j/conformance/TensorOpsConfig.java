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
 * One tensor of the suite for the tensor port's device-side operations, each checked exactly: a view over part of
 * it, a strided block copy out of it, casts to the other floating types, and a fill.
 *
 * <pre>{@code
 * TensorOpsConfig c = TensorOpsConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index    position among these configurations (part of the id)
 * @param shape    the tensor's shape ({@code [rows, cols]} or more: the copy reads rows of the last dimension)
 * @param dtype    its storage type
 * @param dataSeed seed of its values
 */
public record TensorOpsConfig(int index, Shape shape, DType dtype, long dataSeed) implements CaseConfig {

    /**

     * One element, odd sizes, a rank-3 tensor; BF16 and F16 tensors (casts both ways).

     *

     * @param seed the suite's seed (the configurations' data seeds are drawn from it)

     * @return the configurations

     */
    public static List<TensorOpsConfig> standard(long seed) {
        Random r = new Random(seed ^ 0x7E2502L);
        Object[][] rows = {
                {Shape.of(1), DType.F32}, {Shape.of(7, 13), DType.F32}, {Shape.of(3, 5, 64), DType.F32},
                {Shape.of(129), DType.BF16}, {Shape.of(4, 33), DType.F16},
        };
        List<TensorOpsConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            out.add(new TensorOpsConfig(i, (Shape) rows[i][0], (DType) rows[i][1], r.nextLong()));
        }
        return out;
    }

    /** {@return rows of the last dimension} */
    public int rows() {
        return Draw.count(shape) / cols();
    }

    /** {@return the last dimension} */
    public int cols() {
        return shape.dim(-1);
    }

    /** {@return the ops: view, copy, cast, fill} */
    @Override
    public List<Op> ops() {
        return List.of(Op.TENSOR_VIEW, Op.TENSOR_COPY, Op.TENSOR_CAST, Op.TENSOR_FILL);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return TensorOpsRunner.run(this, checked(op), backend);
    }

    /** {@return A stable, readable id, e.g. {@code x001 7x13 f32}} */
    @Override
    public String id() {
        return String.format("x%03d %s %s", index, Draw.dims(shape), Draw.dtype(dtype));
    }

    /** {@return regenerates the values (spread over several binades, so casts round)} */
    public double[] data() {
        return Draw.gaussian(new Random(dataSeed), Draw.count(shape), 3, Precision.of(dtype));
    }
}
