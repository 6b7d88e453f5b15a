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
 * One sum of squares of the suite: {@code accumulator += Σ x²} over a tensor of {@code shape}, the accumulator
 * starting at {@code start} (earlier groups' share).
 *
 * <pre>{@code
 * SumOfSquaresConfig c = SumOfSquaresConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index    position among these configurations (part of the id)
 * @param shape    {@code x}'s shape
 * @param start    the accumulator's starting value (a float)
 * @param dtype    {@code x}'s storage type (the accumulator is F32)
 * @param dataSeed seed of the inputs
 */
public record SumOfSquaresConfig(int index, Shape shape, float start, DType dtype, long dataSeed) implements CaseConfig {

    /**

     * One element, odd and prime sizes, a 10007-element group; one BF16 and one F16.

     *

     * @param seed the suite's seed (the configurations' data seeds are drawn from it)

     * @return the configurations

     */
    public static List<SumOfSquaresConfig> standard(long seed) {
        Random r = new Random(seed ^ 0x5055L);
        Object[][] rows = {
                {Shape.of(1), 0f, DType.F32}, {Shape.of(17), 1.5f, DType.F32}, {Shape.of(3, 31), 0f, DType.F32},
                {Shape.of(10007), 2f, DType.F32}, {Shape.of(64, 65), 0f, DType.F32}, {Shape.of(129), 0.25f, DType.BF16},
                {Shape.of(5, 7), 0f, DType.F16},
        };
        List<SumOfSquaresConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            out.add(new SumOfSquaresConfig(i, (Shape) rows[i][0], (float) rows[i][1], (DType) rows[i][2], r.nextLong()));
        }
        return out;
    }

    /** {@return the ops: the one op} */
    @Override
    public List<Op> ops() {
        return List.of(Op.SUM_OF_SQUARES);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        checked(op);
        return OptimizerRunner.sumOfSquares(this, backend);
    }

    /** {@return A stable, readable id, e.g. {@code s003 10007 start(2.0) f32}} */
    @Override
    public String id() {
        return String.format("s%03d %s start(%s) %s", index, Draw.dims(shape), start, Draw.dtype(dtype));
    }

    /** {@return regenerates {@code x} from {@code dataSeed}} */
    public double[] data() {
        return Draw.gaussian(new Random(dataSeed), Draw.count(shape), 1, Precision.of(dtype));
    }
}
