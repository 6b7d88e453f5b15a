package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.RandomOracle;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.Arrays;
import java.util.List;

/**
 * One uniform fill of the suite, checked bit for bit against the oracle's reading of
 * {@link UniformRequest}'s counter mapping: the promise is that every backend draws exactly the same values.
 * Counts that are no multiple of 4 (a Philox call's four words), offsets past 2³², a degenerate range.
 *
 * <pre>{@code
 * UniformConfig c = UniformConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index  position among the uniform configurations (part of the id)
 * @param shape  the filled tensor's shape
 * @param low    lower bound
 * @param high   upper bound
 * @param seed   Philox key
 * @param offset Philox counter offset
 * @param dtype  the tensor's storage type
 */
public record UniformConfig(int index, Shape shape, float low, float high, long seed, long offset, DType dtype)
        implements CaseConfig {

    /**

     * The standard fills (fixed, not drawn: their seeds and offsets are the point).

     *

     * @param suiteSeed the suite's seed (the configurations' data seeds are drawn from it)

     * @return the configurations

     */
    public static List<UniformConfig> standard(long suiteSeed) {
        return List.of(
                new UniformConfig(0, Shape.of(1), -1f, 1f, 0L, 0L, DType.F32),
                new UniformConfig(1, Shape.of(3), 0f, 1f, 42L, 7L, DType.F32),
                new UniformConfig(2, Shape.of(1031), -0.01f, 0.01f, suiteSeed, 1L << 33, DType.F32),
                new UniformConfig(3, Shape.of(3, 5, 7), 2f, 2f, -1L, -1L, DType.F32),
                new UniformConfig(4, Shape.of(64, 65), -3.5f, 12.25f, 0x0123_4567_89AB_CDEFL, 123_456_789L, DType.F32),
                new UniformConfig(5, Shape.of(129), -1f, 1f, 5L, 3L, DType.BF16),
                new UniformConfig(6, Shape.of(17, 3), -2f, 2f, 6L, 1L << 40, DType.F16));
    }

    /** {@return the ops: the one op} */
    @Override
    public List<Op> ops() {
        return List.of(Op.UNIFORM);
    }

    /** Fills a tensor that held ones, and compares every element exactly. */
    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        checked(op);
        int n = Draw.count(shape);
        try (DeviceScope scope = new DeviceScope(backend)) {
            double[] ones = new double[n];
            Arrays.fill(ones, 1);
            DeviceTensor t = scope.upload(ones, shape, dtype);
            backend.random().uniform(new UniformRequest(t, low, high, seed, offset));
            return List.of(PassRule.exact("values", RandomOracle.uniform(n, low, high, seed, offset, dtype),
                    scope.download(t)));
        }
    }

    /** {@return A stable, readable id, e.g. {@code u002 1031 [-0.01,0.01) seed(...) offset(8589934592) f32}} */
    @Override
    public String id() {
        return String.format("u%03d %s [%s,%s) seed(%d) offset(%d) %s", index, Draw.dims(shape), low, high, seed, offset,
                Draw.dtype(dtype));
    }
}
