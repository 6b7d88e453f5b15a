package dev.attn4j.oracle;

import dev.attn4j.ports.tensor.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PassRuleTest {
    private static final double INF = Double.POSITIVE_INFINITY;

    @Test
    void toleranceIsTheLargerOfAtolAndFiveTimesTheRefError() {
        double[] golden = {1.0, 2.0};
        PassRule.Check tight = PassRule.check("o", golden, new double[] {1.0, 2.0}, new float[] {1.0f, 2.000009f}, DType.F32);
        assertEquals(1e-5, tight.tolerance());
        assertTrue(tight.passed());
        PassRule.Check loose = PassRule.check("o", golden, new double[] {1.001, 2.0}, new float[] {1.0f, 2.004f}, DType.F32);
        assertEquals(5e-3, loose.tolerance(), 1e-12);
        assertTrue(loose.passed());
        assertEquals(1, loose.worstIndex());
        PassRule.Check over = PassRule.check("o", golden, new double[] {1.001, 2.0}, new float[] {1.0f, 2.006f}, DType.F32);
        assertFalse(over.passed());
        assertTrue(over.ratio() > 1);
        assertTrue(over.describe().contains("> tolerance"), over.describe());
    }

    @Test
    void nanNeverPassesWhateverTheTolerance() {
        PassRule.Check c = PassRule.check("o", new double[] {1}, new double[] {100}, new float[] {Float.NaN}, DType.BF16);
        assertFalse(c.passed());
        assertTrue(c.nan());
    }

    @Test
    void minusInfinityMustBeMatchedExactly() {
        double[] golden = {-INF, 0.5};
        assertTrue(PassRule.check("lse", golden, golden, new float[] {Float.NEGATIVE_INFINITY, 0.5f}, DType.F32).passed());
        assertFalse(PassRule.check("lse", golden, golden, new float[] {-1e30f, 0.5f}, DType.F32).passed());
        assertFalse(PassRule.check("lse", new double[] {0.5}, new double[] {0.5}, new float[] {Float.NEGATIVE_INFINITY},
                DType.F32).passed());
    }

    @Test
    void atolPerDtype() {
        assertEquals(1e-5, PassRule.atol(DType.F32));
        assertEquals(1e-3, PassRule.atol(DType.F16));
        assertEquals(1.6e-2, PassRule.atol(DType.BF16));
    }
}
