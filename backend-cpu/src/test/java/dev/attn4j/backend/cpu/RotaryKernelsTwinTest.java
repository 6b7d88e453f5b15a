package dev.attn4j.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** {@link RotaryKernels}: both pairings bit-identical between the twins, at offsets, for rotated widths around the vector width. */
class RotaryKernelsTwinTest extends KernelTwinTestCase {

    @Test
    void bothPairingsAreBitIdentical() {
        RotaryKernels vector = vector().rotary();
        RotaryKernels scalar = SCALAR.rotary();
        for (int r : new int[] {2, 6, 8, 14, 16, 18, 32, 34, 64, 128}) {
            float[] x = gauss(r, r + 9, 0, 1);
            float[] alpha = gauss(r + 1, r, 0.5, 0.4);
            float[] beta = gauss(r + 2, r, -0.2, 0.6);
            float[] y1 = new float[r + 5];
            float[] y2 = new float[r + 5];
            scalar.interleaved(x, 3, y1, 2, r, alpha, beta);
            vector.interleaved(x, 3, y2, 2, r, alpha, beta);
            assertArrayEquals(y1, y2, "interleaved r=" + r);
            scalar.splitHalf(x, 7, y1, 1, r, alpha, beta);
            vector.splitHalf(x, 7, y2, 1, r, alpha, beta);
            assertArrayEquals(y1, y2, "split-half r=" + r);
        }
    }
}
