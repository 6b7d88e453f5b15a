package dev.attn4j.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link ElementwiseKernels}: the element-wise loops, the double-precision dot product and the AdamW step
 * bit-identical between the twins.
 */
class ElementwiseKernelsTwinTest extends KernelTwinTestCase {

    @Test
    void twinsAreBitIdentical() {
        ElementwiseKernels vector = vector().elementwise();
        ElementwiseKernels scalar = SCALAR.elementwise();
        float[] a = gauss(16, 1100, 0, 1);
        float[] b = gauss(17, 1100, 0, 1);
        for (int n : LENGTHS) {
            float[] y1 = new float[n + 9];
            float[] y2 = new float[n + 9];
            scalar.add(a, 3, b, 5, 0.7f, y1, 1, n);
            vector.add(a, 3, b, 5, 0.7f, y2, 1, n);
            assertArrayEquals(y1, y2, "add " + n);
            scalar.axpy(-1.3f, a, 2, y1, 1, n);
            vector.axpy(-1.3f, a, 2, y2, 1, n);
            assertArrayEquals(y1, y2, "axpy " + n);
            scalar.scale(a, 1, 3.1f, y1, 2, n);
            vector.scale(a, 1, 3.1f, y2, 2, n);
            assertArrayEquals(y1, y2, "scale " + n);
            scalar.multiply(a, 1, b, 4, y1, 0, n);
            vector.multiply(a, 1, b, 4, y2, 0, n);
            assertArrayEquals(y1, y2, "multiply " + n);
            assertEquals(scalar.dot(a, 3, b, 1, n), vector.dot(a, 3, b, 1, n), 0.0, "dot " + n);
            double[] acc1 = new double[n + 2];
            double[] acc2 = new double[n + 2];
            Arrays.fill(acc1, 0.25);
            Arrays.fill(acc2, 0.25);
            scalar.accumulateProducts(a, 3, b, 1, acc1, 2, n);
            vector.accumulateProducts(a, 3, b, 1, acc2, 2, n);
            assertArrayEquals(acc1, acc2, "accumulateProducts " + n);
        }
    }

    @Test
    void adamWIsBitIdentical() {
        ElementwiseKernels vector = vector().elementwise();
        ElementwiseKernels scalar = SCALAR.elementwise();
        ElementwiseKernels.AdamWStep step = new ElementwiseKernels.AdamWStep(0.8f, 0.999f, 0.9f, 0.1f, 0.999f, 0.001f,
                -1e-3f / 0.271f, (float) Math.sqrt(1 - Math.pow(0.999, 3)), 1e-8f);
        for (int n : LENGTHS) {
            float[] g = gauss(n, n + 4, 0, 1);
            float[][] one = {gauss(n + 1, n + 3, 0, 1), gauss(n + 2, n + 5, 0, 0.1), gauss(n + 3, n + 2, 0.01, 0.001)};
            for (float[] v : one) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = Math.abs(v[i]);
                }
            }
            float[][] two = {one[0].clone(), one[1].clone(), one[2].clone()};
            scalar.adamW(step, one[0], 3, g, 4, one[1], 5, one[2], 2, n);
            vector.adamW(step, two[0], 3, g, 4, two[1], 5, two[2], 2, n);
            assertArrayEquals(one[0], two[0], "parameters n=" + n);
            assertArrayEquals(one[1], two[1], "first moments n=" + n);
            assertArrayEquals(one[2], two[2], "second moments n=" + n);
        }
    }
}
