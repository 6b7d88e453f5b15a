package dev.attn4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExpTest {

    @Test
    void withinTwoUlpsOfStrictMathOverTheSoftmaxRange() {
        double worstUlps = 0;
        for (float x = -87f; x <= 0f; x += 0.000731f) {
            float exact = (float) StrictMath.exp(x);
            float got = Exp.exp(x);
            worstUlps = Math.max(worstUlps, Math.abs(got - exact) / Math.ulp(exact));
        }
        assertTrue(worstUlps <= 2, "worst error " + worstUlps + " ulp");
    }

    @Test
    void edgeCases() {
        assertEquals(1f, Exp.exp(0f));
        assertEquals(0f, Exp.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, Exp.exp(-100f));
        assertTrue(Float.isNaN(Exp.exp(Float.NaN)));
    }

    @Test
    void vectorTwinIsBitIdenticalToScalar() {
        Assumptions.assumeTrue(Simd.available(), "Vector API not enabled");
        var species = FloatVector.SPECIES_PREFERRED;
        float[] xs = new float[species.length()];
        float[] out = new float[xs.length];
        for (float base = -90f; base < 1f; base += 0.37f) {
            for (int i = 0; i < xs.length; i++) {
                xs[i] = base + i * 0.0173f;
            }
            xs[0] = Float.NEGATIVE_INFINITY;
            VectorTileMath.exp(FloatVector.fromArray(species, xs, 0)).intoArray(out, 0);
            for (int i = 0; i < xs.length; i++) {
                assertEquals(Float.floatToIntBits(Exp.exp(xs[i])), Float.floatToIntBits(out[i]), "exp(" + xs[i] + ")");
            }
        }
    }
}
