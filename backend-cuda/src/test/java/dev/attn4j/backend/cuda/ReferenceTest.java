package dev.attn4j.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU tests' references checked on the CPU (so in CI): gradients against central finite differences
 * of the forward, and the empty-row convention of a causal mask with Sq > Sk.
 */
class ReferenceTest {
    private static final double H = 1e-3;

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /** Loss L = sum(o · w) for fixed weights w, so dL/do = w. */
    private static double loss(float[] q, float[] k, float[] v, Reference.Dims n, boolean causal, double scale, float[] w) {
        double[] o = Reference.attention(q, k, v, n, causal, scale).o();
        double sum = 0;
        for (int i = 0; i < o.length; i++) {
            sum += o[i] * w[i];
        }
        return sum;
    }

    @Test
    void attentionGradientsMatchFiniteDifferences() {
        Random rnd = new Random(7);
        Reference.Dims n = new Reference.Dims(1, 3, 5, 2, 1, 4);
        for (boolean causal : new boolean[] {false, true}) {
            float[] q = random(rnd, 1 * 3 * 2 * 4);
            float[] k = random(rnd, 1 * 5 * 1 * 4);
            float[] v = random(rnd, 1 * 5 * 1 * 4);
            float[] w = random(rnd, q.length);
            double scale = 0.7;
            Reference.Backward g = Reference.attentionBackward(w, q, k, v, n, causal, scale);
            float[][] inputs = {q, k, v};
            double[][] grads = {g.dq(), g.dk(), g.dv()};
            for (int t = 0; t < 3; t++) {
                for (int idx = 0; idx < inputs[t].length; idx++) {
                    float saved = inputs[t][idx];
                    inputs[t][idx] = (float) (saved + H);
                    double plus = loss(q, k, v, n, causal, scale, w);
                    inputs[t][idx] = (float) (saved - H);
                    double minus = loss(q, k, v, n, causal, scale, w);
                    inputs[t][idx] = saved;
                    // the perturbation is rounded to float: divide by the step actually taken
                    double step = (double) (float) (saved + H) - (double) (float) (saved - H);
                    assertEquals((plus - minus) / step, grads[t][idx], 2e-3,
                            "tensor " + t + " element " + idx + " causal=" + causal);
                }
            }
        }
    }

    @Test
    void causalRowsWithNoVisibleKeyGiveZeroOutputAndMinusInfinityLse() {
        Random rnd = new Random(3);
        Reference.Dims n = new Reference.Dims(1, 5, 2, 1, 1, 3);  // off = -3: rows 0..2 see no key
        Reference.Forward f = Reference.attention(random(rnd, 15), random(rnd, 6), random(rnd, 6), n, true, 1.0);
        for (int i = 0; i < 3; i++) {
            assertEquals(Double.NEGATIVE_INFINITY, f.lse()[i]);
            for (int d = 0; d < 3; d++) {
                assertEquals(0.0, f.o()[i * 3 + d]);
            }
        }
        assertTrue(Double.isFinite(f.lse()[3]));
    }

    @Test
    void normGradientsMatchFiniteDifferences() {
        Random rnd = new Random(11);
        int c = 6;
        float[] x = random(rnd, 2 * c);
        float[] gamma = random(rnd, c);
        float[] beta = random(rnd, c);
        float[] w = random(rnd, 2 * c);
        for (boolean rms : new boolean[] {false, true}) {
            float[] b = rms ? null : beta;
            Reference.Norm f = Reference.norm(x, null, 1.0, gamma, b, rms, 1e-5, c);
            Reference.NormGrad g = Reference.normBackward(f, w, gamma, rms, c);
            float[][] inputs = {x, gamma};
            double[][] grads = {g.dh(), g.dGamma()};
            for (int t = 0; t < 2; t++) {
                for (int idx = 0; idx < inputs[t].length; idx++) {
                    float saved = inputs[t][idx];
                    inputs[t][idx] = (float) (saved + H);
                    double plus = dot(Reference.norm(x, null, 1.0, gamma, b, rms, 1e-5, c).y(), w);
                    inputs[t][idx] = (float) (saved - H);
                    double minus = dot(Reference.norm(x, null, 1.0, gamma, b, rms, 1e-5, c).y(), w);
                    inputs[t][idx] = saved;
                    double step = (double) (float) (saved + H) - (double) (float) (saved - H);
                    assertEquals((plus - minus) / step, grads[t][idx], 2e-3, "rms=" + rms + " tensor " + t + " element " + idx);
                }
            }
        }
    }

    private static double dot(double[] a, float[] w) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * w[i];
        }
        return s;
    }
}
