package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.rotary.RotaryLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RoPE and xPos tables, pinned by hand values and by the relative-position property they exist for. */
class RotaryTest {

    @Test
    void ropeTablesForTwoPairs() {
        // R = 4, theta 10000: frequencies 1 and 10000^(-1/2) = 0.01.
        RotaryTables t = Rotary.of(4).tables(3);
        assertEquals(3, t.seqLen());
        assertEquals(1f, t.cos(0, 0));
        assertEquals(0f, t.sin(0, 1));
        assertEquals(0.5403023058681398, t.cos(1, 0), 1e-7);
        assertEquals(0.8414709848078965, t.sin(1, 0), 1e-7);
        assertEquals(0.9999500004166653, t.cos(1, 1), 1e-7);
        assertEquals(0.009999833334166664, t.sin(1, 1), 1e-9);
        assertEquals(-0.4161468365471424, t.cos(2, 0), 1e-7);
        assertEquals(0.01999866669333308, t.sin(2, 1), 1e-9);
    }

    @Test
    void thetaAndInterpolation() {
        Rotary llama3 = new Rotary(128, 500000, 1);
        assertEquals(Math.pow(500000, -1.0 / 64), llama3.inverseFrequency(1), 1e-15);
        assertEquals(1.0, llama3.inverseFrequency(0), 0.0);
        // Position interpolation by 4: position 8 gets the angles of position 2.
        RotaryTables stretched = new Rotary(8, 10000, 4).tables(9);
        RotaryTables plain = Rotary.of(8).tables(3);
        for (int k = 0; k < 4; k++) {
            assertEquals(plain.cos(2, k), stretched.cos(8, k), 1e-7);
            assertEquals(plain.sin(2, k), stretched.sin(8, k), 1e-7);
        }
        assertEquals(Math.sin(0.25), stretched.sin(1, 0), 1e-7);
    }

    @Test
    void startPositionContinuesTheTables() {
        RotaryTables all = Rotary.of(6).tables(10);
        RotaryTables tail = Rotary.of(6).tables(7, 3);
        for (int n = 0; n < 3; n++) {
            for (int k = 0; k < 3; k++) {
                assertEquals(all.cos(7 + n, k), tail.cos(n, k));
                assertEquals(all.sin(7 + n, k), tail.sin(n, k));
            }
        }
    }

    /** Rotates {@code x} (one head, D features) at table row {@code n} as the rotary port's contract says. */
    private static double[] rotate(double[] x, RotaryTables t, XposScales s, boolean isQuery, int n, RotaryLayout layout) {
        double[] out = x.clone();
        int half = t.rotaryDim() / 2;
        for (int k = 0; k < half; k++) {
            int a = layout == RotaryLayout.INTERLEAVED ? 2 * k : k;
            int b = layout == RotaryLayout.INTERLEAVED ? 2 * k + 1 : k + half;
            double c = t.cos(n, k);
            double sn = t.sin(n, k);
            double z = s == null ? 1 : isQuery ? s.query(n, k) : s.key(n, k);
            out[a] = z * (x[a] * c - x[b] * sn);
            out[b] = z * (x[a] * sn + x[b] * c);
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) {
            s += a[k] * b[k];
        }
        return s;
    }

    private static double[] gaussian(Random random, int d) {
        double[] x = new double[d];
        for (int k = 0; k < d; k++) {
            x[k] = random.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(RotaryLayout.class)
    void ropeScoresDependOnlyOnRelativePosition(RotaryLayout layout) {
        Random random = new Random(5);
        int d = 12;                    // R = 8 rotated, 4 passed through
        RotaryTables t = Rotary.of(8).tables(40);
        double[] q = gaussian(random, d);
        double[] k = gaussian(random, d);
        for (int delta = -5; delta <= 5; delta++) {
            double reference = dot(rotate(q, t, null, true, 20, layout), rotate(k, t, null, false, 20 - delta, layout));
            for (int m = 10; m < 30; m += 3) {
                double score = dot(rotate(q, t, null, true, m, layout), rotate(k, t, null, false, m - delta, layout));
                assertEquals(reference, score, 1e-5, "delta " + delta + " at query position " + m);
            }
        }
        double near = dot(rotate(q, t, null, true, 20, layout), rotate(k, t, null, false, 20, layout));
        double far = dot(rotate(q, t, null, true, 20, layout), rotate(k, t, null, false, 3, layout));
        assertTrue(Math.abs(near - far) > 1e-3, "the rotation does change scores");
        assertEquals(dot(q, k), near, 1e-5, "same position: the rotations cancel");
    }

    @Test
    void xposZetaAndScales() {
        Xpos xpos = Xpos.of(4);
        assertEquals(0.4 / 1.4, xpos.zeta(0), 1e-15);
        assertEquals(0.9 / 1.4, xpos.zeta(1), 1e-15);
        XposScales s = xpos.scales(1024);       // centre 512 as x-transformers: positions 0..1023
        assertEquals(1f, s.query(512, 0));
        assertEquals(1f, s.key(512, 1));
        assertEquals(1.4 / 0.4, s.query(0, 0), 1e-5);    // ζ^((0 - 512)/512) = 1/ζ
        assertEquals(0.4 / 1.4, s.key(0, 0), 1e-7);
        assertEquals(Math.pow(0.9 / 1.4, 0.5), s.query(768, 1), 1e-7);
        assertEquals(Math.pow(0.9 / 1.4, -0.5), s.key(768, 1), 1e-6);
        XposScales odd = Xpos.of(4).scales(5);  // centre ⌊5/2⌋ = 2
        assertEquals(1f, odd.query(2, 0));
    }

    @ParameterizedTest
    @EnumSource(RotaryLayout.class)
    void xposScoresDependOnlyOnRelativePositionWhateverTheCentre(RotaryLayout layout) {
        Random random = new Random(9);
        RotaryTables t = Rotary.of(8).tables(64);
        Xpos xpos = new Xpos(8, 16, 0.4);      // a small scale base makes the decay visible
        XposScales centred = xpos.scales(64);
        XposScales shifted = xpos.scales(0, 64, 5);
        double[] q = gaussian(random, 8);
        double[] k = gaussian(random, 8);
        for (int delta = 0; delta <= 6; delta += 2) {
            double reference = dot(rotate(q, t, centred, true, 30, layout), rotate(k, t, centred, false, 30 - delta, layout));
            for (int m = 10; m < 60; m += 7) {
                double a = dot(rotate(q, t, centred, true, m, layout), rotate(k, t, centred, false, m - delta, layout));
                double b = dot(rotate(q, t, shifted, true, m, layout), rotate(k, t, shifted, false, m - delta, layout));
                assertEquals(reference, a, 1e-4 * Math.max(1, Math.abs(reference)), "delta " + delta + " at " + m);
                assertEquals(reference, b, 1e-4 * Math.max(1, Math.abs(reference)), "centre 5, delta " + delta + " at " + m);
            }
        }
        // Pair scale product for a key `delta` to the left: ζ^(delta / scaleBase).
        assertEquals(Math.pow(xpos.zeta(1), 6 / 16.0), centred.query(40, 1) * centred.key(34, 1), 1e-6);
    }

    @Test
    void rejectsBadSettings() {
        assertEquals("rotaryDim", assertThrows(InvalidRequestException.class, () -> Rotary.of(5)).argument());
        assertEquals("theta", assertThrows(InvalidRequestException.class, () -> new Rotary(4, 1, 1)).argument());
        assertEquals("interpolationFactor", assertThrows(InvalidRequestException.class,
                () -> new Rotary(4, 10000, 0)).argument());
        assertEquals("seqLen", assertThrows(InvalidRequestException.class, () -> Rotary.of(4).tables(0)).argument());
        assertEquals("start", assertThrows(InvalidRequestException.class, () -> Rotary.of(4).tables(-1, 2)).argument());
        assertEquals("scaleBase", assertThrows(InvalidRequestException.class, () -> new Xpos(4, 0, 0.4)).argument());
        assertEquals("gamma", assertThrows(InvalidRequestException.class, () -> new Xpos(4, 512, -1)).argument());
        assertEquals("cos", assertThrows(InvalidRequestException.class,
                () -> new RotaryTables(new float[3], new float[4], 2, 4)).argument());
    }
}
