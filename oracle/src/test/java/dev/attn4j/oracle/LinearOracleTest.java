package dev.attn4j.oracle;

import dev.attn4j.ports.linear.WeightLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static dev.attn4j.oracle.FiniteDifferences.assertGradient;
import static dev.attn4j.oracle.FiniteDifferences.dot;
import static dev.attn4j.oracle.FiniteDifferences.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The oracle's linear layer and GEMM: worked by hand, the backward against central differences. */
class LinearOracleTest {

    @Test
    void forwardByHandInBothLayouts() {
        double[] x = {1, 2};
        double[] outIn = {3, 4, 5, 6};       // W [out=2, in=2]
        double[] inOut = {3, 5, 4, 6};       // the same W stored [in, out]
        double[] b = {1, -1};
        assertArrayEquals(new double[] {12, 16}, LinearOracle.forward(x, 1, 2, outIn, WeightLayout.OUT_IN, 2, b, Precision.FP64));
        assertArrayEquals(new double[] {12, 16}, LinearOracle.forward(x, 1, 2, inOut, WeightLayout.IN_OUT, 2, b, Precision.FP64));
        assertArrayEquals(new double[] {11, 17}, LinearOracle.forward(x, 1, 2, outIn, WeightLayout.OUT_IN, 2, null, Precision.FP64));
    }

    @ParameterizedTest
    @EnumSource(WeightLayout.class)
    void backwardMatchesCentralDifferencesAndAddsIntoTheAccumulators(WeightLayout layout) {
        int rows = 3, in = 4, out = 5;
        Random r = new Random(3);
        double[] x = gaussian(r, rows * in);
        double[] w = gaussian(r, out * in);
        double[] b = gaussian(r, out);
        double[] dy = gaussian(r, rows * out);
        double[] dW0 = gaussian(r, out * in);
        double[] db0 = gaussian(r, out);
        LinearOracle.Grads g = LinearOracle.backward(x, rows, in, w, layout, out, dy, true, dW0, db0, Precision.FP64);
        LinearOracle.Grads fresh = LinearOracle.backward(x, rows, in, w, layout, out, dy, true, new double[out * in],
                new double[out], Precision.FP64);
        assertGradient("dx", xs -> dot(dy, LinearOracle.forward(xs, rows, in, w, layout, out, b, Precision.FP64)), x, fresh.dx());
        assertGradient("dW", ws -> dot(dy, LinearOracle.forward(x, rows, in, ws, layout, out, b, Precision.FP64)), w,
                fresh.dWeight());
        assertGradient("db", bs -> dot(dy, LinearOracle.forward(x, rows, in, w, layout, out, bs, Precision.FP64)), b,
                fresh.dBias());
        for (int i = 0; i < dW0.length; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(dW0[i] + fresh.dWeight()[i], g.dWeight()[i], 1e-12);
        }
        for (int i = 0; i < db0.length; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(db0[i] + fresh.dBias()[i], g.dBias()[i], 1e-12);
        }
        LinearOracle.Grads frozen = LinearOracle.backward(x, rows, in, w, layout, out, dy, true, null, null, Precision.FP64);
        assertNull(frozen.dWeight());
        assertNull(frozen.dBias());
    }

    @Test
    void matmulByHandWithTransposesAlphaBetaAndASharedOperand() {
        // A [2, 2, 3] (two products), B shared [1, 3, 1]; C = 2·A·B + 0.5·C
        double[] a = {1, 2, 3, 4, 5, 6, -1, 0, 1, 2, 2, 2};
        double[] b = {1, 1, 1};
        double[] c = {10, 20, 30, 40};
        var d = new LinearOracle.MatmulDims(2, false, true, 2, 1, 3, false, false);
        assertArrayEquals(new double[] {2 * 6 + 5, 2 * 15 + 10, 2 * 0 + 15, 2 * 6 + 20},
                LinearOracle.matmul(d, a, b, c, 2, 0.5, Precision.FP64));
        // Aᵀ: the same A [2, 3] stored as [3, 2]
        double[] aT = {1, 4, 2, 5, 3, 6};
        var t = new LinearOracle.MatmulDims(1, false, false, 2, 1, 3, true, false);
        assertArrayEquals(new double[] {6, 15}, LinearOracle.matmul(t, aT, b, null, 1, 0, Precision.FP64));
    }

    @Test
    void matmulWithBetaZeroNeverReadsC() {
        double[] nan = {Double.NaN, Double.NaN};
        var d = new LinearOracle.MatmulDims(1, false, false, 1, 2, 1, false, true);
        double[] y = LinearOracle.matmul(d, new double[] {2}, new double[] {3, 4}, nan, 1, 0, Precision.FP64);
        assertArrayEquals(new double[] {6, 8}, y);
        assertFalse(Double.isNaN(y[0]));
    }

    @Test
    void matmulWithTransposedBIsTheLinearForward() {
        Random r = new Random(9);
        int m = 5, n = 7, k = 3;
        double[] x = gaussian(r, m * k);
        double[] w = gaussian(r, n * k);
        var d = new LinearOracle.MatmulDims(1, false, false, m, n, k, false, true);
        assertArrayEquals(LinearOracle.forward(x, m, k, w, WeightLayout.OUT_IN, n, null, Precision.FP64),
                LinearOracle.matmul(d, x, w, null, 1, 0, Precision.FP64), 1e-12);
    }
}
