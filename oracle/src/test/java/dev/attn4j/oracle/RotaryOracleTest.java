package dev.attn4j.oracle;

import dev.attn4j.ports.rotary.RotaryLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.attn4j.oracle.FiniteDifferences.dot;
import static dev.attn4j.oracle.FiniteDifferences.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Rotary application: hand-checked pairs, the inverse undoes a pure rotation, and it is forward's adjoint. */
class RotaryOracleTest {
    private static final int B = 2, S = 3, H = 2, D = 6, PAIRS = 2;

    @Test
    void rotatesThePairsOfEachLayoutAndPassesTheRestThrough() {
        double t = 0.3;
        double[] cos = {Math.cos(t), 1};
        double[] sin = {Math.sin(t), 0};
        double[] x = {1, 2, 3, 4, 5, 6};
        // INTERLEAVED: pair 0 = (x0, x1), pair 1 = (x2, x3) unrotated; x4, x5 pass through.
        double[] y = RotaryOracle.apply(x, 1, 1, 1, 6, cos, sin, null, RotaryLayout.INTERLEAVED, false);
        assertArrayEquals(new double[] {Math.cos(t) - 2 * Math.sin(t), Math.sin(t) + 2 * Math.cos(t), 3, 4, 5, 6}, y, 1e-15);
        // SPLIT_HALF with R = 4: pair 0 = (x0, x2), pair 1 = (x1, x3).
        double[] z = RotaryOracle.apply(x, 1, 1, 1, 6, cos, sin, new double[] {2, 2}, RotaryLayout.SPLIT_HALF, false);
        assertArrayEquals(new double[] {2 * (Math.cos(t) - 3 * Math.sin(t)), 4, 2 * (Math.sin(t) + 3 * Math.cos(t)), 8, 5, 6},
                z, 1e-14);
    }

    @ParameterizedTest
    @EnumSource(RotaryLayout.class)
    void inverseUndoesARotationWithoutScale(RotaryLayout layout) {
        Random r = new Random(1);
        double[][] table = angles(r);
        double[] x = gaussian(r, B * S * H * D);
        double[] y = RotaryOracle.apply(x, B, S, H, D, table[0], table[1], null, layout, false);
        assertArrayEquals(x, RotaryOracle.apply(y, B, S, H, D, table[0], table[1], null, layout, true), 1e-14);
    }

    @ParameterizedTest
    @EnumSource(RotaryLayout.class)
    void inverseIsTheAdjointOfForwardWithXposScale(RotaryLayout layout) {
        Random r = new Random(2);
        double[][] table = angles(r);
        double[] scale = new double[S * PAIRS];
        for (int i = 0; i < scale.length; i++) {
            scale[i] = 0.5 + r.nextDouble();
        }
        double[] x = gaussian(r, B * S * H * D);
        double[] g = gaussian(r, B * S * H * D);
        double lhs = dot(g, RotaryOracle.apply(x, B, S, H, D, table[0], table[1], scale, layout, false));
        double rhs = dot(RotaryOracle.apply(g, B, S, H, D, table[0], table[1], scale, layout, true), x);
        assertEquals(lhs, rhs, 1e-12);
    }

    @ParameterizedTest
    @EnumSource(RotaryLayout.class)
    void reducedPrecisionRoundsEachOutputAndKeepsThePassThroughExact(RotaryLayout layout) {
        Random r = new Random(3);
        double[][] table = angles(r);
        double[] x = gaussian(r, B * S * H * D);
        for (int i = 0; i < x.length; i++) {
            x[i] = Precision.BF16.round(x[i]);
        }
        double[] golden = RotaryOracle.apply(x, B, S, H, D, table[0], table[1], null, layout, false, Precision.FP64);
        double[] ref = RotaryOracle.apply(x, B, S, H, D, table[0], table[1], null, layout, false, Precision.BF16);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Precision.BF16.round(ref[i]), ref[i], 0.0, "stored in BF16");
            assertEquals(golden[i], ref[i], Math.abs(golden[i]) / 128 + 1e-30, "within a BF16 rounding");
            if (i % D >= 2 * PAIRS) {
                assertEquals(x[i], ref[i], 0.0, "features past R pass through untouched");
            }
        }
        assertArrayEquals(golden, RotaryOracle.apply(x, B, S, H, D, table[0], table[1], null, layout, false), 0.0);
    }

    private static double[][] angles(Random r) {
        double[] cos = new double[S * PAIRS];
        double[] sin = new double[S * PAIRS];
        for (int i = 0; i < cos.length; i++) {
            double a = 6 * r.nextDouble();
            cos[i] = Math.cos(a);
            sin[i] = Math.sin(a);
        }
        return new double[][] {cos, sin};
    }
}
