package dev.attn4j.oracle;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** AdamW's first step in closed form, weight decay, clipping's factor, and the sum of squares. */
class OptimizerOracleTest {

    @Test
    void firstStepIsLrTimesGOverAbsGPlusEps() {
        // step 1 from zero moments: m̂ = g and v̂ = g², so the update is lr·g/(|g| + eps)
        double lr = 0.1, eps = 1e-8, wd = 0.01;
        double[] p = {1.0, -2.0};
        double[] g = {0.5, -3.0};
        var s = OptimizerOracle.adamW(p, g, new double[2], new double[2], 1, lr, 0.9, 0.999, eps, wd,
                OptimizerOracle.NO_CLIP, Precision.FP64);
        for (int i = 0; i < 2; i++) {
            double decayed = p[i] * (1 - lr * wd);
            assertEquals(decayed - lr * g[i] / (Math.abs(g[i]) + eps), s.params()[i], 1e-12);
            assertEquals(0.1 * g[i], s.expAvg()[i], 1e-15);
            assertEquals(0.001 * g[i] * g[i], s.expAvgSq()[i], 1e-15);
        }
    }

    @Test
    void clippingScalesTheGradientByMaxNormOverTheNorm() {
        // ‖g‖ = 5 over two groups (sum of squares 25), maxNorm 1: g is scaled by 1/(5 + 1e-6)
        double[] g = {3.0};
        var clipped = OptimizerOracle.adamW(new double[] {0}, g, new double[1], new double[1], 1, 0.1, 0.9, 0.999, 1e-8,
                0, new OptimizerOracle.Clip(1, 25), Precision.FP64);
        assertEquals(0.1 * 3.0 / (5 + 1e-6), clipped.expAvg()[0], 1e-15);
        var unclipped = OptimizerOracle.adamW(new double[] {0}, g, new double[1], new double[1], 1, 0.1, 0.9, 0.999,
                1e-8, 0, new OptimizerOracle.Clip(10, 25), Precision.FP64);
        assertEquals(0.3, unclipped.expAvg()[0], 1e-15, "a norm below maxNorm is left alone");
    }

    @Test
    void laterStepsUseTheBiasCorrectionsOfThatStep() {
        double m0 = 0.2, v0 = 0.05, g = -1, b1 = 0.9, b2 = 0.99, lr = 0.01;
        var s = OptimizerOracle.adamW(new double[] {1}, new double[] {g}, new double[] {m0}, new double[] {v0}, 7, lr,
                b1, b2, 1e-6, 0, OptimizerOracle.NO_CLIP, Precision.FP64);
        double m = b1 * m0 + (1 - b1) * g;
        double v = b2 * v0 + (1 - b2) * g * g;
        double update = lr / (1 - Math.pow(b1, 7)) * m / (Math.sqrt(v) / Math.sqrt(1 - Math.pow(b2, 7)) + 1e-6);
        assertEquals(1 - update, s.params()[0], 1e-14);
    }

    @Test
    void sumOfSquaresAddsIntoTheAccumulator() {
        assertEquals(2.5 + 1 + 4 + 9, OptimizerOracle.sumOfSquares(new double[] {1, -2, 3}, 2.5, Precision.FP64));
    }
}
