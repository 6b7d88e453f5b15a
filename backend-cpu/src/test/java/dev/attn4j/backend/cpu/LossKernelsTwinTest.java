package dev.attn4j.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link LossKernels}: the fused cross-entropy's column loops, bit-identical between the twins. */
class LossKernelsTwinTest extends KernelTwinTestCase {

    @Test
    void columnLoopsAreBitIdentical() {
        LossKernels vector = vector().loss();
        LossKernels scalar = SCALAR.loss();
        for (int n : LENGTHS) {
            float[] z = gauss(n, n + 6, 0, 3);
            z[3] = Float.NEGATIVE_INFINITY;
            for (boolean addBias : new boolean[] {false, true}) {
                float[] z1 = z.clone();
                float[] z2 = z.clone();
                float[] max1 = gauss(n + 1, n + 4, -1, 1);
                float[] max2 = max1.clone();
                scalar.biasMax(z1, 3, n, addBias, 0.7f, max1, 2);
                vector.biasMax(z2, 3, n, addBias, 0.7f, max2, 2);
                assertArrayEquals(z1, z2, "biasMax values n=" + n + " bias=" + addBias);
                assertArrayEquals(max1, max2, "biasMax maxima n=" + n + " bias=" + addBias);

                float[] sum1 = gauss(n + 2, n + 3, 2, 1);
                float[] sum2 = sum1.clone();
                scalar.expSum(z1, 3, n, max1, 2, sum1, 1);
                vector.expSum(z2, 3, n, max2, 2, sum2, 1);
                assertArrayEquals(z1, z2, "expSum values n=" + n);
                assertArrayEquals(sum1, sum2, "expSum sums n=" + n);
                assertEquals(0f, z1[3], "exp(−∞ − shift) is 0");

                float[] factor = gauss(n + 3, n + 1, 1, 0.5);
                scalar.scale(z1, 3, n, factor, 1);
                vector.scale(z2, 3, n, factor, 1);
                assertArrayEquals(z1, z2, "scale n=" + n);
            }
        }
    }
}
