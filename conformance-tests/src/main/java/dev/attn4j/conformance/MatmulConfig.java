package dev.attn4j.conformance;

import dev.attn4j.oracle.LinearOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One matrix product of the suite, {@code C = alpha·op(A)·op(B) + beta·C}: rank 2, or a strided batch in which
 * {@code A} or {@code B} (or both) may have batch 1 and be shared. With {@code beta = 0}, {@code C} starts as NaN:
 * it must not be read.
 *
 * <pre>{@code
 * MatmulConfig c = MatmulConfig.standard(ConformanceSuite.SEED).getFirst();
 * }</pre>
 *
 * @param index      position among the matmul configurations (part of the id)
 * @param batch      products; 0 for rank-2 operands
 * @param aShared    whether {@code A} has batch 1 (rank 3 only)
 * @param bShared    whether {@code B} has batch 1 (rank 3 only)
 * @param m          rows of {@code C}
 * @param n          columns of {@code C}
 * @param k          the reduced dimension
 * @param transposeA whether {@code op(A) = Aᵀ}
 * @param transposeB whether {@code op(B) = Bᵀ}
 * @param alpha      scale of the product (a float)
 * @param beta       scale of {@code C}'s old value (a float)
 * @param dtype      storage type
 * @param dataSeed   seed of the inputs
 */
public record MatmulConfig(int index, int batch, boolean aShared, boolean bShared, int m, int n, int k,
                           boolean transposeA, boolean transposeB, float alpha, float beta, DType dtype, long dataSeed)
        implements CaseConfig {

    /**
     * Host data.
     *
     * @param a {@code A}
     * @param b {@code B}
     * @param c {@code C}'s starting value (NaN everywhere when {@code beta = 0})
     */
    public record Data(double[] a, double[] b, double[] c) {
    }

    /** Checks the combination. */
    public MatmulConfig {
        if (m < 1 || n < 1 || k < 1 || batch < 0) {
            throw new IllegalArgumentException("sizes must be >= 1");
        }
        if (batch == 0 && (aShared || bShared)) {
            throw new IllegalArgumentException("shared operands need a batch");
        }
    }

    /**
     * The standard products: every transpose combination, alpha and beta both trivial and not, rank 2 and batches
     * with either operand (or both) shared, sizes 1, primes and next to 16/64; one BF16 and one F16.
     *
     * @param seed the suite's seed (the configurations' data seeds are drawn from it)
     * @return the configurations
     */
    public static List<MatmulConfig> standard(long seed) {
        Random r = new Random(seed ^ 0x3A73_A7L);
        Object[][] rows = {
                // batch, aShared, bShared, m, n, k, tA, tB, alpha, beta, dtype
                {0, false, false, 1, 1, 1, false, false, 1f, 0f, DType.F32},
                {0, false, false, 17, 31, 13, false, true, 1f, 0f, DType.F32},
                {0, false, false, 65, 3, 97, true, false, 0.5f, 1f, DType.F32},
                {0, false, false, 5, 64, 130, true, true, -2f, 0.25f, DType.F32},
                {3, false, false, 7, 11, 5, false, false, 1f, 0f, DType.F32},
                {5, true, false, 13, 9, 17, false, true, 1f, 1f, DType.F32},
                {4, false, true, 3, 29, 31, true, false, 1.5f, 0f, DType.F32},
                {1, false, false, 16, 16, 16, true, true, 1f, 0.5f, DType.F32},
                {2, true, true, 6, 7, 8, false, false, 1f, 0f, DType.F32},
                {0, false, false, 23, 19, 37, false, true, 1f, 0f, DType.BF16},
                {2, false, false, 11, 13, 9, false, false, 1f, 1f, DType.F16},
        };
        List<MatmulConfig> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Object[] c = rows[i];
            out.add(new MatmulConfig(i, (int) c[0], (boolean) c[1], (boolean) c[2], (int) c[3], (int) c[4], (int) c[5],
                    (boolean) c[6], (boolean) c[7], (float) c[8], (float) c[9], (DType) c[10], r.nextLong()));
        }
        return out;
    }

    /** {@return products (1 for rank 2)} */
    public int products() {
        return Math.max(batch, 1);
    }

    /** {@return {@code A}'s shape} */
    public Shape aShape() {
        return shape(aShared, transposeA ? k : m, transposeA ? m : k);
    }

    /** {@return {@code B}'s shape} */
    public Shape bShape() {
        return shape(bShared, transposeB ? n : k, transposeB ? k : n);
    }

    /** {@return {@code C}'s shape} */
    public Shape cShape() {
        return shape(false, m, n);
    }

    private Shape shape(boolean shared, int rows, int cols) {
        return batch == 0 ? Shape.of(rows, cols) : Shape.of(shared ? 1 : batch, rows, cols);
    }

    /** {@return the oracle's view of the sizes} */
    public LinearOracle.MatmulDims dims() {
        return new LinearOracle.MatmulDims(products(), aShared, bShared, m, n, k, transposeA, transposeB);
    }

    /** {@return the ops: the product alone} */
    @Override
    public List<Op> ops() {
        return List.of(Op.MATMUL);
    }

    @Override
    public List<PassRule.Check> run(Op op, Backend backend) {
        checked(op);
        return MatmulRunner.run(this, backend);
    }

    /** {@return A stable, readable id, e.g. {@code m005 b5 a-shared 13x9x17 nt alpha(1.0) beta(1.0) f32}} */
    @Override
    public String id() {
        return String.format("m%03d %s%s%s %dx%dx%d %s%s alpha(%s) beta(%s) %s", index, batch == 0 ? "rank2" : "b" + batch,
                aShared ? " a-shared" : "", bShared ? " b-shared" : "", m, n, k, transposeA ? "t" : "n",
                transposeB ? "t" : "n", alpha, beta, Draw.dtype(dtype));
    }

    /** {@return regenerates the data from {@code dataSeed}} */
    public Data data() {
        Random r = new Random(dataSeed);
        Precision store = Precision.of(dtype);
        double[] a = Draw.gaussian(r, Draw.count(aShape()), 1, store);
        double[] b = Draw.gaussian(r, Draw.count(bShape()), 1 / Math.sqrt(k), store);
        double[] c;
        if (beta == 0) {
            c = new double[Draw.count(cShape())];
            java.util.Arrays.fill(c, Double.NaN);
        } else {
            c = Draw.gaussian(r, Draw.count(cShape()), 1, store);
        }
        return new Data(a, b, c);
    }
}
