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
                scalar.glu(f, x, off, off + half, y1, 0, half);
                vector.glu(f, x, off, off + half, y2, 0, half);
                assertArrayEquals(y1, y2, f + " glu n=" + n);
                float[] d1 = new float[n + 8];
                float[] d2 = new float[n + 8];
                scalar.gluBackward(f, x, off, off + half, dy, 1, d1, 2, 2 + half, half);
                vector.gluBackward(f, x, off, off + half, dy, 1, d2, 2, 2 + half, half);
                assertArrayEquals(d1, d2, f + " glu backward n=" + n);
            }
        }
    }

    static float[] inputs() {
        SplittableRandom rnd = new SplittableRandom(1);
        float[] x = new float[24_001 + 4_000];
        for (int i = 0; i <= 24_000; i++) {
            x[i] = -12f + i * 1e-3f;
        }
        for (int i = 24_001; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 2);
        }
        return x;
    }
}
