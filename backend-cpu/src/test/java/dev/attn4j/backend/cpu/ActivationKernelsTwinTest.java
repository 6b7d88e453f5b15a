package dev.attn4j.backend.cpu;

import dev.attn4j.ports.activation.Activation;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * {@link ActivationKernels}: every function, its gradient and its GLU forms bit-identical between the twins, with
 * NaN, ±∞ and −0 among the inputs, at offsets and lengths around the vector width.
 */
class ActivationKernelsTwinTest extends KernelTwinTestCase {

    @ParameterizedTest
    @EnumSource(Activation.class)
    void twinsAreBitIdentical(Activation f) {
        ActivationKernels vector = vector().activation();
        ActivationKernels scalar = SCALAR.activation();
        float[] x = inputs();
        x[5] = Float.NaN;
        x[6] = Float.POSITIVE_INFINITY;
        x[7] = Float.NEGATIVE_INFINITY;
        x[8] = -0f;
        float[] dy = inputs();
        for (int n : new int[] {1, 15, 16, 17, 1000, x.length - 3}) {
            for (int off : new int[] {0, 3}) {
                float[] y1 = new float[n + 8];
                float[] y2 = new float[n + 8];
                scalar.forward(f, x, off, y1, 5, n);
                vector.forward(f, x, off, y2, 5, n);
                assertArrayEquals(y1, y2, f + " forward n=" + n);
                scalar.backward(f, x, off, dy, 2, y1, 1, n);
                vector.backward(f, x, off, dy, 2, y2, 1, n);
                assertArrayEquals(y1, y2, f + " backward n=" + n);
                int half = n / 2;
                scalar.glu(f, x, off, x, off + half, y1, 0, half);
                vector.glu(f, x, off, x, off + half, y2, 0, half);
                assertArrayEquals(y1, y2, f + " glu n=" + n);
                float[] d1 = new float[n + 8];
                float[] d2 = new float[n + 8];
                scalar.gluBackward(f, x, off, x, off + half, dy, 1, d1, 2, 2 + half, half);
                vector.gluBackward(f, x, off, x, off + half, dy, 1, d2, 2, 2 + half, half);
                assertArrayEquals(d1, d2, f + " glu backward n=" + n);
                // the split form: value and gate in two arrays (the gate's input here is dy's data)
                scalar.glu(f, x, off, dy, 3, y1, 0, half);
                vector.glu(f, x, off, dy, 3, y2, 0, half);
                assertArrayEquals(y1, y2, f + " split glu n=" + n);
                scalar.gluBackward(f, x, off, dy, 3, x, 1, d1, 2, 2 + half, half);
                vector.gluBackward(f, x, off, dy, 3, x, 1, d2, 2, 2 + half, half);
                assertArrayEquals(d1, d2, f + " split glu backward n=" + n);
            }
        }
    }

    /**
     * A grid over [−14, 14] (past exact GELU's flush to 0 at |x| > {@link ActivationMath#TAIL_T0}), the edges of its
     * table intervals ({@code ±(j + ½)}, each side), and Gaussians.
     */
    static float[] inputs() {
        SplittableRandom rnd = new SplittableRandom(1);
        float[] x = new float[28_001 + 4 * 15 + 4_000];
        for (int i = 0; i <= 28_000; i++) {
            x[i] = -14f + i * 1e-3f;
        }
        int at = 28_001;
        for (int j = 0; j < 15; j++) {
            float edge = j + 0.5f;
            x[at++] = Math.nextDown(edge);
            x[at++] = Math.nextUp(edge);
            x[at++] = -edge;
            x[at++] = j == 14 ? ActivationMath.TAIL_T0 : -Math.nextUp(edge);
        }
        for (int i = at; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 2);
        }
        return x;
    }
}
