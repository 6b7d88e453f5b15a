package dev.attn4j.oracle;

import dev.attn4j.ports.elementwise.BroadcastAxis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static dev.attn4j.oracle.FiniteDifferences.assertGradient;
import static dev.attn4j.oracle.FiniteDifferences.dot;
import static dev.attn4j.oracle.FiniteDifferences.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Adds, scales, broadcasts and token shift: by hand, backward by central differences, the shift's adjoint. */
class ElementwiseOracleTest {

    @Test
    void addAxpyScaleByHand() {
        assertArrayEquals(new double[] {3, -1}, ElementwiseOracle.add(new double[] {1, 1}, new double[] {1, -1}, 2, Precision.FP64));
        assertArrayEquals(new double[] {1.5, 0}, ElementwiseOracle.axpy(0.5, new double[] {1, -2}, new double[] {1, 1}, Precision.FP64));
        assertArrayEquals(new double[] {-3, 0}, ElementwiseOracle.scale(new double[] {1.5, 0}, -2, Precision.FP64), 0);
    }

    @ParameterizedTest
    @EnumSource(BroadcastAxis.class)
    void multiplyBroadcastsAndItsBackwardMatchesCentralDifferences(BroadcastAxis axis) {
        int rows = 3, cols = 4;
        Random r = new Random(axis.ordinal());
        double[] x = gaussian(r, rows * cols);
        double[] v = gaussian(r, axis == BroadcastAxis.COLUMNS ? cols : rows);
        double[] y = ElementwiseOracle.multiply(x, cols, v, axis, Precision.FP64);
        assertEquals(x[cols + 2] * (axis == BroadcastAxis.COLUMNS ? v[2] : v[1]), y[cols + 2]);
        double[] dy = gaussian(r, rows * cols);
        double[] dv0 = gaussian(r, v.length);
        var g = ElementwiseOracle.multiplyBackward(x, cols, v, axis, dy, true, new double[v.length], Precision.FP64);
        assertGradient("dx", xs -> dot(dy, ElementwiseOracle.multiply(xs, cols, v, axis, Precision.FP64)), x, g.dx());
        assertGradient("dv", vs -> dot(dy, ElementwiseOracle.multiply(x, cols, vs, axis, Precision.FP64)), v, g.vectorGrad());
        var accumulated = ElementwiseOracle.multiplyBackward(x, cols, v, axis, dy, false, dv0, Precision.FP64);
        for (int i = 0; i < v.length; i++) {
            assertEquals(dv0[i] + g.vectorGrad()[i], accumulated.vectorGrad()[i], 1e-12);
        }
        assertEquals(null, accumulated.dx());
    }

    @Test
    void tokenShiftByHandWithDocumentsAndPadding() {
        // one row of 5 tokens, 2 features, only feature 1 shifted by one; documents 7 7 9 9 and padding -1
        double[] x = {1, 10, 2, 20, 3, 30, 4, 40, 5, 50};
        int[] segments = {7, 7, 9, 9, -1};
        double[] y = ElementwiseOracle.shiftTokens(x, 1, 5, 2, 1, 1, 1, segments);
        assertArrayEquals(new double[] {1, 0, 2, 10, 3, 0, 4, 30, 5, 0}, y);
        // no segments: one document per row; by two the other way
        double[] back = ElementwiseOracle.shiftTokens(x, 1, 5, 2, 0, 2, -2, null);
        assertArrayEquals(new double[] {3, 30, 4, 40, 5, 50, 0, 0, 0, 0}, back);
        // a shift past the row's end leaves only zeros in the shifted features
        assertArrayEquals(new double[] {1, 0, 2, 0, 3, 0, 4, 0, 5, 0}, ElementwiseOracle.shiftTokens(x, 1, 5, 2, 1, 1, 9, null));
    }

    @Test
    void tokenShiftBackwardIsTheAdjointAndEqualsTheShiftTheOtherWay() {
        int batch = 2, seq = 9, cols = 5;
        Random r = new Random(4);
        int[] segments = new int[batch * seq];
        for (int i = 0; i < segments.length; i++) {
            segments[i] = i % seq < 3 ? 0 : i % seq < 7 ? 1 : -1;
        }
        for (int amount : new int[] {1, 2, -1, -3}) {
            double[] x = gaussian(r, batch * seq * cols);
            double[] dy = gaussian(r, batch * seq * cols);
            double[] forward = ElementwiseOracle.shiftTokens(x, batch, seq, cols, 1, 3, amount, segments);
            double[] adjoint = ElementwiseOracle.shiftTokensBackward(dy, batch, seq, cols, 1, 3, amount, segments);
            assertEquals(dot(forward, dy), dot(x, adjoint), 1e-12, "<S x, dy> = <x, Sᵀ dy>, amount " + amount);
            assertArrayEquals(ElementwiseOracle.shiftTokens(dy, batch, seq, cols, 1, 3, -amount, segments), adjoint,
                    "the port's promise: the backward is the shift by -amount");
        }
    }
}
