package dev.attn4j.oracle;

import dev.attn4j.ports.attention.Dropout;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static dev.attn4j.oracle.FiniteDifferences.assertGradient;
import static dev.attn4j.oracle.FiniteDifferences.dot;
import static dev.attn4j.oracle.FiniteDifferences.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The oracle's attention backward equals central differences of its forward, in FP64, feature by feature. */
class AttentionOracleGradientTest {

    static Stream<Named<AttentionProblem>> problems() {
        return Stream.of(
                Named.of("plain, MQA, Sq < Sk", problem(new AttentionDims(1, 3, 5, 2, 1, 3), 1, p -> p)),
                Named.of("causal, Sq > Sk (fully masked rows)", problem(new AttentionDims(1, 5, 3, 2, 2, 3), 2,
                        p -> with(p, true, -1, -1, 0, null, null, null, null, null, Dropout.NONE))),
                Named.of("GQA 4/2, B=2, causal, scale 0.7", problem(new AttentionDims(2, 4, 4, 4, 2, 2), 3,
                        p -> new AttentionProblem(p.dims(), p.q(), p.k(), p.v(), 0.7, true, -1, -1, 0, null, null,
                                null, null, null, Dropout.NONE))),
                Named.of("softcap 2 + ALiBi [B,H]", problem(new AttentionDims(2, 3, 4, 2, 1, 3), 4,
                        p -> with(p, false, -1, -1, 2.0, new double[] {0.5, 0, 0.25, 0.125}, null, null, null, null,
                                Dropout.NONE))),
                Named.of("bias table + window(1,1)", problem(new AttentionDims(1, 4, 5, 2, 1, 2), 5,
                        p -> with(p, false, 1, 1, 0, null, gaussian(new Random(50), 2 * 8), null, null, null,
                                Dropout.NONE))),
                Named.of("bias table + causal + ALiBi [H]", problem(new AttentionDims(2, 3, 3, 2, 2, 2), 6,
                        p -> with(p, true, -1, -1, 0, new double[] {0.3, 0.7}, gaussian(new Random(60), 2 * 5), null,
                                null, null, Dropout.NONE))),
                Named.of("flashmask causal n=1", problem(new AttentionDims(1, 4, 4, 2, 1, 2), 7,
                        p -> with(p, true, -1, -1, 0, null, null, null, new FlashMaskIndices(1, 1, new int[] {2, 9, 3, 4}),
                                null, Dropout.NONE))),
                Named.of("flashmask causal n=2", problem(new AttentionDims(1, 4, 4, 2, 2, 2), 8,
                        p -> with(p, true, -1, -1, 0, null, null, null,
                                new FlashMaskIndices(2, 2, new int[] {1, 3, 2, 3, 4, 4, 4, 4, 2, 4, 1, 2, 3, 4, 0, 0}),
                                null, Dropout.NONE))),
                Named.of("flashmask non-causal n=2", problem(new AttentionDims(1, 4, 3, 2, 1, 2), 9,
                        p -> with(p, false, -1, -1, 0, null, null, null,
                                new FlashMaskIndices(1, 2, new int[] {3, 1, 2, 0, 4, 2}), null, Dropout.NONE))),
                Named.of("flashmask non-causal n=4", problem(new AttentionDims(1, 4, 3, 2, 1, 2), 10,
                        p -> with(p, false, -1, -1, 0, null, null, null,
                                new FlashMaskIndices(1, 4, new int[] {0, 1, 3, 9, 1, 2, 2, 2, 2, 4, 0, 0}), null,
                                Dropout.NONE))),
                Named.of("dense mask [B,1] + dense bias [1,H]", problem(new AttentionDims(2, 3, 4, 2, 1, 2), 11,
                        p -> with(p, false, -1, -1, 0, null, null,
                                new DenseBias(1, 2, gaussian(new Random(110), 2 * 3 * 4)), null,
                                new DenseMaskFlags(2, 1, mask(new Random(111), 2 * 3 * 4)), Dropout.NONE))),
                Named.of("dropout 0.3", problem(new AttentionDims(1, 4, 5, 2, 1, 3), 12,
                        p -> with(p, false, -1, -1, 0, null, null, null, null, null, new Dropout(0.3, 1234L, 5L)))));
    }

    @ParameterizedTest
    @MethodSource("problems")
    void backwardMatchesCentralDifferences(AttentionProblem p) {
        double[] dO = gaussian(new Random(99), p.dims().querySize());
        AttentionGrads g = AttentionOracle.backward(p, dO, Precision.FP64);
        assertGradient("dq", q -> dot(dO, AttentionOracle.forward(p.withInputs(q, p.k(), p.v()), Precision.FP64).o()),
                p.q(), g.dq());
        assertGradient("dk", k -> dot(dO, AttentionOracle.forward(p.withInputs(p.q(), k, p.v()), Precision.FP64).o()),
                p.k(), g.dk());
        assertGradient("dv", v -> dot(dO, AttentionOracle.forward(p.withInputs(p.q(), p.k(), v), Precision.FP64).o()),
                p.v(), g.dv());
        if (p.biasTable() != null) {
            assertNotNull(g.dBiasTable());
            assertGradient("dBiasTable",
                    t -> dot(dO, AttentionOracle.forward(p.withBiasTable(t), Precision.FP64).o()),
                    p.biasTable(), g.dBiasTable());
        }
    }

    @ParameterizedTest
    @MethodSource("problems")
    void fullyMaskedRowsGiveZeroOutputMinusInfinityLseAndZeroGradients(AttentionProblem p) {
        AttentionDims d = p.dims();
        double[] dO = gaussian(new Random(98), d.querySize());
        AttentionOutputs out = AttentionOracle.forward(p, Precision.FP64);
        AttentionGrads g = AttentionOracle.backward(p, dO, Precision.FP64);
        for (int b = 0; b < d.batch(); b++) {
            for (int h = 0; h < d.heads(); h++) {
                for (int i = 0; i < d.seqQ(); i++) {
                    boolean none = true;
                    for (int j = 0; j < d.seqK(); j++) {
                        none &= p.masked(b, h, i, j);
                    }
                    double lse = out.lse()[d.lse(b, h, i)];
                    assertEquals(none, lse == Double.NEGATIVE_INFINITY, "lse of row " + i + " head " + h);
                    if (none) {
                        for (int x = 0; x < d.headDim(); x++) {
                            assertEquals(0.0, out.o()[d.q(b, i, h, x)]);
                            assertEquals(0.0, g.dq()[d.q(b, i, h, x)]);
                        }
                    }
                }
            }
        }
    }

    private static AttentionProblem problem(AttentionDims d, long seed, java.util.function.UnaryOperator<AttentionProblem> f) {
        Random r = new Random(seed);
        AttentionProblem p = AttentionProblem.plain(d, gaussian(r, d.querySize()), gaussian(r, d.keySize()),
                gaussian(r, d.keySize()), 1 / Math.sqrt(d.headDim()), false);
        return f.apply(p);
    }

    private static AttentionProblem with(AttentionProblem p, boolean causal, int left, int right, double softcap,
                                         double[] slopes, double[] table, DenseBias bias, FlashMaskIndices flash,
                                         DenseMaskFlags mask, Dropout dropout) {
        return new AttentionProblem(p.dims(), p.q(), p.k(), p.v(), p.scale(), causal, left, right, softcap, slopes,
                table, bias, flash, mask, dropout);
    }

    private static boolean[] mask(Random r, int n) {
        boolean[] m = new boolean[n];
        for (int i = 0; i < n; i++) {
            m[i] = r.nextInt(4) != 0;
        }
        return m;
    }
}
