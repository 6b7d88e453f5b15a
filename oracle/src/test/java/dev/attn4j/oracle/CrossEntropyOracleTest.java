package dev.attn4j.oracle;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.attn4j.oracle.FiniteDifferences.assertGradient;
import static dev.attn4j.oracle.FiniteDifferences.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Cross-entropy by hand, ignore-index rows, and every gradient against central differences of the scaled loss. */
class CrossEntropyOracleTest {

    @Test
    void twoClassesByHand() {
        // h = [1], W = [[0], [ln 3]]: logits (0, ln 3), softmax (1/4, 3/4); target 1 → loss −ln(3/4)
        double[] w = {0, Math.log(3)};
        var r = CrossEntropyOracle.run(new double[] {1, 1}, 2, 1, w, 2, null, new int[] {1, -100}, -100, 1, true,
                new double[2], null, Precision.FP64);
        assertEquals(-Math.log(0.75), r.lossSum(), 1e-15);
        assertEquals(1, r.count());
        assertArrayEquals(new double[] {-Math.log(0.75), 0}, r.perToken(), 1e-15);
        // dh = g·W with g = (1/4, 3/4 − 1); the ignored row gets nothing
        assertArrayEquals(new double[] {-0.25 * Math.log(3), 0}, r.dHidden(), 1e-15);
        assertArrayEquals(new double[] {0.25, -0.25}, r.dWeight(), 1e-15);
    }

    @Test
    void gradientsMatchCentralDifferencesOfTheScaledLoss() {
        int rows = 4, d = 3, vocab = 5;
        Random rnd = new Random(8);
        double[] h = gaussian(rnd, rows * d);
        double[] w = gaussian(rnd, vocab * d);
        double[] b = gaussian(rnd, vocab);
        int[] targets = {3, -7, 0, 4};
        double scale = 0.37;
        double[] dW0 = gaussian(rnd, vocab * d);
        double[] db0 = gaussian(rnd, vocab);
        var r = CrossEntropyOracle.run(h, rows, d, w, vocab, b, targets, -7, scale, true, new double[vocab * d],
                new double[vocab], Precision.FP64);
        assertEquals(3, r.count());
        assertEquals(0, r.perToken()[1]);
        assertGradient("dHidden", hs -> scale * CrossEntropyOracle.run(hs, rows, d, w, vocab, b, targets, -7, 0, false,
                null, null, Precision.FP64).lossSum(), h, r.dHidden());
        assertGradient("dWeight", ws -> scale * CrossEntropyOracle.run(h, rows, d, ws, vocab, b, targets, -7, 0, false,
                null, null, Precision.FP64).lossSum(), w, r.dWeight());
        assertGradient("dBias", bs -> scale * CrossEntropyOracle.run(h, rows, d, w, vocab, bs, targets, -7, 0, false,
                null, null, Precision.FP64).lossSum(), b, r.dBias());
        var accumulated = CrossEntropyOracle.run(h, rows, d, w, vocab, b, targets, -7, scale, false, dW0, db0,
                Precision.FP64);
        for (int i = 0; i < dW0.length; i++) {
            assertEquals(dW0[i] + r.dWeight()[i], accumulated.dWeight()[i], 1e-12);
        }
        for (int i = 0; i < db0.length; i++) {
            assertEquals(db0[i] + r.dBias()[i], accumulated.dBias()[i], 1e-12);
        }
    }
}
