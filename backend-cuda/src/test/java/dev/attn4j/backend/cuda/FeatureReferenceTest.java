package dev.attn4j.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The feature reference of the GPU tests checked on the CPU: Philox against Random123's known answers,
 * gradients (bias table included) against central finite differences, dropout's keep rate.
 */
class FeatureReferenceTest {
    private static final double STEP = 1e-3;

    @Test
    void philoxMatchesRandom123KnownAnswers() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                FeatureReference.philox(new int[] {0, 0, 0, 0}, 0, 0));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                FeatureReference.philox(new int[] {-1, -1, -1, -1}, -1, -1));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                FeatureReference.philox(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, 0xa4093822, 0x299f31d0));
    }

    @Test
    void dropoutKeepsAboutOneMinusP() {
        Reference.Dims n = new Reference.Dims(2, 64, 64, 2, 1, 1);
        FeatureReference.Spec f = spec(0.25, 0, null, null);
        int kept = 0;
        int total = 0;
        for (int b = 0; b < 2; b++) for (int h = 0; h < 2; h++) for (int i = 0; i < 64; i++) for (int j = 0; j < 64; j++) {
            kept += FeatureReference.kept(f, n, b, h, i, j) ? 1 : 0;
            total++;
        }
        assertEquals(0.75, kept / (double) total, 0.02);
    }

    private static FeatureReference.Spec spec(double dropP, double softcap, float[] alibi, float[] table) {
        return new FeatureReference.Spec(false, 2, 1, softcap, alibi, false, table, null, 1, 1, null, 1, 1, null, 1, 1,
                dropP, 99L, 5L);
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    private static double loss(float[][] in, Reference.Dims n, FeatureReference.Spec f, float[] w) {
        double[] o = FeatureReference.run(in[0], in[1], in[2], w, n, 0.7, f).o();
        double sum = 0;
        for (int i = 0; i < o.length; i++) {
            sum += o[i] * w[i];
        }
        return sum;
    }

    @Test
    void gradientsWithWindowSoftcapAlibiTableAndDropoutMatchFiniteDifferences() {
        Random rnd = new Random(11);
        Reference.Dims n = new Reference.Dims(1, 4, 5, 2, 1, 3);
        float[] table = random(rnd, 2 * (4 + 5 - 1));
        // dropout with a fixed seed is a fixed mask: the loss stays differentiable
        FeatureReference.Spec f = spec(0.3, 1.5, new float[] {0.3f, 0.7f}, table);
        float[][] in = {random(rnd, 4 * 2 * 3), random(rnd, 5 * 3), random(rnd, 5 * 3), table};
        float[] w = random(rnd, in[0].length);
        FeatureReference.Result g = FeatureReference.run(in[0], in[1], in[2], w, n, 0.7, f);
        double[][] grads = {g.dq(), g.dk(), g.dv(), g.dTable()};
        boolean anyTableGrad = false;
        for (int t = 0; t < 4; t++) {
            for (int idx = 0; idx < in[t].length; idx++) {
                float saved = in[t][idx];
                in[t][idx] = (float) (saved + STEP);
                double plus = loss(in, n, f, w);
                in[t][idx] = (float) (saved - STEP);
                double minus = loss(in, n, f, w);
                in[t][idx] = saved;
                double step = (double) (float) (saved + STEP) - (double) (float) (saved - STEP);
                assertEquals((plus - minus) / step, grads[t][idx], 2e-3, "tensor " + t + " element " + idx);
                anyTableGrad |= t == 3 && Math.abs(grads[t][idx]) > 1e-3;
            }
        }
        assertTrue(anyTableGrad, "the table's gradient is not all zero");
    }
}
