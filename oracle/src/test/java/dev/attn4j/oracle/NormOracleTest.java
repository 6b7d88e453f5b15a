package dev.attn4j.oracle;

import dev.attn4j.ports.norm.NormKind;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static dev.attn4j.oracle.FiniteDifferences.assertGradient;
import static dev.attn4j.oracle.FiniteDifferences.dot;
import static dev.attn4j.oracle.FiniteDifferences.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The oracle's LayerNorm/RMSNorm: hand-checked forward, backward against central differences. */
class NormOracleTest {
    private static final int ROWS = 3;
    private static final int COLS = 5;

    record Case(NormProblem problem, boolean dSum) {
    }

    static Stream<Named<Case>> cases() {
        Random r = new Random(17);
        double[] x = gaussian(r, ROWS * COLS);
        double[] res = gaussian(r, ROWS * COLS);
        double[] gamma = gaussian(r, COLS);
        double[] beta = gaussian(r, COLS);
        return Stream.of(
                Named.of("LayerNorm + beta", new Case(new NormProblem(NormKind.LAYER_NORM, ROWS, COLS, x, null, 1, gamma, beta, 1e-5), false)),
                Named.of("LayerNorm, no beta", new Case(new NormProblem(NormKind.LAYER_NORM, ROWS, COLS, x, null, 1, gamma, null, 1e-5), false)),
                Named.of("RMSNorm", new Case(new NormProblem(NormKind.RMS_NORM, ROWS, COLS, x, null, 1, gamma, null, 1e-6), false)),
                Named.of("LayerNorm, fused residual", new Case(new NormProblem(NormKind.LAYER_NORM, ROWS, COLS, x, res, 1, gamma, beta, 1e-5), true)),
                Named.of("LayerNorm, DeepNorm alpha 2.3", new Case(new NormProblem(NormKind.LAYER_NORM, ROWS, COLS, x, res, 2.3, gamma, beta, 1e-5), true)),
                Named.of("RMSNorm, DeepNorm alpha 1.7, no dSum", new Case(new NormProblem(NormKind.RMS_NORM, ROWS, COLS, x, res, 1.7, gamma, null, 1e-6), false)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void backwardMatchesCentralDifferences(Case c) {
        NormProblem p = c.problem();
        Random r = new Random(5);
        double[] dy = gaussian(r, ROWS * COLS);
        double[] dSum = c.dSum() ? gaussian(r, ROWS * COLS) : null;
        NormGrads g = NormOracle.backward(p, dy, dSum, Precision.FP64);
        // Loss = <dy, y> + <dSum, h>: dSum is the gradient reaching h from the residual stream's other consumers.
        java.util.function.Function<NormProblem, Double> loss = q -> {
            NormOutputs o = NormOracle.forward(q, Precision.FP64);
            return dot(dy, o.y()) + (dSum != null ? dot(dSum, o.sum()) : 0);
        };
        assertGradient("dInput", in -> loss.apply(p.with(in, p.residual(), p.gamma(), p.beta())), p.input(), g.dInput());
        if (p.residual() != null) {
            assertGradient("dResidual", res -> loss.apply(p.with(p.input(), res, p.gamma(), p.beta())), p.residual(),
                    g.dResidual());
        } else {
            assertNull(g.dResidual());
        }
        assertGradient("dGamma", gm -> loss.apply(p.with(p.input(), p.residual(), gm, p.beta())), p.gamma(), g.dGamma());
        if (p.beta() != null) {
            assertGradient("dBeta", bt -> loss.apply(p.with(p.input(), p.residual(), p.gamma(), bt)), p.beta(), g.dBeta());
        } else {
            assertNull(g.dBeta());
        }
    }

    @Test
    void layerNormByHand() {
        // Row [1, 2, 3, 6]: mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5.
        double eps = 1e-5;
        NormProblem p = new NormProblem(NormKind.LAYER_NORM, 1, 4, new double[] {1, 2, 3, 6}, null, 1,
                new double[] {1, 2, 1, 1}, new double[] {0, 0, 1, 0}, eps);
        NormOutputs o = NormOracle.forward(p, Precision.FP64);
        double rstd = 1 / Math.sqrt(3.5 + eps);
        assertEquals(3.0, o.mean()[0], 1e-15);
        assertEquals(rstd, o.rstd()[0], 1e-15);
        assertArrayEquals(new double[] {-2 * rstd, -2 * rstd, 1, 3 * rstd}, o.y(), 1e-14);
        assertNull(o.sum());
    }

    @Test
    void rmsNormOfResidualSumByHand() {
        // h = 2 * [1, 1] + [1, -3] = [3, -1]; mean square 5.
        NormProblem p = new NormProblem(NormKind.RMS_NORM, 1, 2, new double[] {1, -3}, new double[] {1, 1}, 2,
                new double[] {1, 0.5}, null, 1e-6);
        NormOutputs o = NormOracle.forward(p, Precision.FP64);
        double rstd = 1 / Math.sqrt(5 + 1e-6);
        assertArrayEquals(new double[] {3, -1}, o.sum(), 0);
        assertNull(o.mean());
        assertArrayEquals(new double[] {3 * rstd, -0.5 * rstd}, o.y(), 1e-14);
    }
}
