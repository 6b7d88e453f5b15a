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
 * One embedding of the suite: a table {@code [V, D]}, ids of any shape (with many repeats when {@code repeats}: the
 * backward must sum every occurrence), and a gradient accumulator that starts non-zero.
 *
 * <pre>{@code
 * EmbeddingConfig c = EmbeddingConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index    position among the embedding configurations (part of the id)
 * @param vocab    V
 * @param width    D
 * @param idsShape the ids' shape
 * @param repeats  whether ids are drawn from a few values only, so most repeat
 * @param dtype    storage type of the table and gradients
 * @param dataSeed seed of the inputs
 */
public record EmbeddingConfig(int index, int vocab, int width, Shape idsShape, boolean repeats, DType dtype,
                              long dataSeed) implements CaseConfig {

    /**
     * Host data.
     *
     * @param table      {@code [V, D]}
     * @param ids        the ids, flat
     * @param dy         the output's gradient
     * @param tableGrad0 the accumulator's starting value
     */
    public record Data(double[] table, int[] ids, double[] dy, double[] tableGrad0) {
    }

    /**

     * One id of a one-row table, repeated ids, wide rows, prime sizes; one BF16 and one F16.

     *

     * @param seed the suite's seed (the configurations' data seeds are drawn from it)

     * @return the configurations

     */
    public static List<EmbeddingConfig> standard(long seed) {
        Random r = new Random(seed ^ 0xE3BEDL);
        Object[][] rows = {
                {1, 1, Shape.of(1), false, DType.F32}, {7, 3, Shape.of(5), true, DType.F32},
                {50, 17, Shape.of(2, 9), false, DType.F32}, {1000, 64, Shape.of(3, 33), false, DType.F32},
                {13, 130, Shape.of(4, 7), true, DType.F32}, {97, 1, Shape.of(61), true, DType.F32},
                {31, 12, Shape.of(3, 5), true, DType.BF16}, {19, 8, Shape.of(11), false, DType.F16},
        };
        List<EmbeddingConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Object[] c = rows[i];
            out.add(new EmbeddingConfig(i, (int) c[0], (int) c[1], (Shape) c[2], (boolean) c[3], (DType) c[4],
                    r.nextLong()));
        }
        return out;
    }

    /** {@return the ops: forward, then backward} */
    @Override
    public List<Op> ops() {
        return List.of(Op.EMBEDDING_FORWARD, Op.EMBEDDING_BACKWARD);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        return EmbeddingRunner.run(this, checked(op) == Op.EMBEDDING_BACKWARD, backend);
    }

    /** {@return A stable, readable id, e.g. {@code w001 v7 d3 ids5 repeats f32}} */
    @Override
    public String id() {
        return String.format("w%03d v%d d%d ids%s%s %s", index, vocab, width, Draw.dims(idsShape),
                repeats ? " repeats" : "", Draw.dtype(dtype));
    }

    /** {@return regenerates the data from {@code dataSeed}} */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        int tokens = Draw.count(idsShape);
        double[] table = Draw.gaussian(r, vocab * width, 1, store);
        int distinct = repeats ? Math.max(1, Math.min(vocab, 3)) : vocab;
        int[] ids = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            ids[t] = repeats ? (vocab - 1 - r.nextInt(distinct)) : r.nextInt(vocab);
        }
        return new Data(table, ids, Draw.gaussian(r, tokens * width, 1, store), Draw.gaussian(r, vocab * width, 0.5, store));
    }
}
