package dev.attn4j.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link TileMath}: attention's and the GEMM's tile arithmetic, bit-identical between the twins (every element of
 * a product is one fma chain in index order in both; the exponential is {@link Exp}'s sequence of exactly specified
 * operations; row sums go to {@link TileMath#LANES} fixed slots).
 */
class TileMathTwinTest extends KernelTwinTestCase {

    @Test
    void gemmIsBitIdenticalForEveryBlockShapeStrideAndMode() {
        TileMath vector = vector().tileMath();
        TileMath scalar = SCALAR.tileMath();
        // m crosses the 6-row and 4-row blocks and the 2- and 1-row remainders, n every column tail (1-3 vectors past
        // whole 4-vector blocks).
        for (int m : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 64}) {
            for (int n : new int[] {16, 32, 48, 64, 80, 112, 128}) {
                for (int k : new int[] {1, 5, 64}) {
                    for (boolean transposedA : new boolean[] {false, true}) {
                        for (boolean accumulate : new boolean[] {false, true}) {
                            int ars = transposedA ? 1 : k + 3;
                            int acs = transposedA ? m + 2 : 1;
                            float[] a = gauss(m * 31L + n + k, 7 + (m + 2) * (k + 3), 0, 1);
                            int ldb = n + 16;
                            float[] b = gauss(n * 17L + k, 5 + k * ldb, 0, 1);
                            int ldc = n + 32;
                            float[] c1 = gauss(99, 9 + m * ldc, 0, 1);
                            float[] c2 = c1.clone();
                            scalar.gemm(a, 7, ars, acs, b, 5, ldb, c1, 9, ldc, m, n, k, accumulate);
                            vector.gemm(a, 7, ars, acs, b, 5, ldb, c2, 9, ldc, m, n, k, accumulate);
                            assertArrayEquals(c1, c2, "gemm m=" + m + " n=" + n + " k=" + k + " transposedA="
                                    + transposedA + " accumulate=" + accumulate);
                        }
                    }
                }
            }
        }
    }

    @Test
    void dotRowsAreBitIdenticalForEveryRowBlockAndStepTail() {
        TileMath vector = vector().tileMath();
        TileMath scalar = SCALAR.tileMath();
        // n crosses the 4-row blocks of W, k the slot width (tails of 1-15 steps, and fewer steps than slots).
        for (int m : new int[] {1, 2, 5, 8}) {
            for (int n : new int[] {1, 3, 4, 5, 9}) {
                for (int k : new int[] {1, 15, 16, 17, 64, 100}) {
                    for (boolean accumulate : new boolean[] {false, true}) {
                        int lda = k + 3;
                        int ldw = k + 5;
                        float[] a = gauss(m * 13L + k, 2 + m * lda, 0, 1);
                        float[] w = gauss(n * 7L + k, 4 + n * ldw, 0, 1);
                        int ldc = n + 2;
                        float[] c1 = gauss(5, 1 + m * ldc, 0, 1);
                        float[] c2 = c1.clone();
                        scalar.dotRows(a, 2, lda, w, 4, ldw, 0.75f, c1, 1, ldc, m, n, k, accumulate,
                                new float[TileMath.DOT_SCRATCH]);
                        vector.dotRows(a, 2, lda, w, 4, ldw, 0.75f, c2, 1, ldc, m, n, k, accumulate,
                                new float[TileMath.DOT_SCRATCH]);
                        assertArrayEquals(c1, c2, "dotRows m=" + m + " n=" + n + " k=" + k + " accumulate="
                                + accumulate);
                    }
                }
            }
        }
    }

    @Test
    void softmaxStepsAreBitIdentical() {
        TileMath vector = vector().tileMath();
        TileMath scalar = SCALAR.tileMath();
        for (int n : new int[] {16, 32, 128}) {
            float[] x = gauss(n, n + 21, -3, 4);
            x[21] = Float.NEGATIVE_INFINITY;
            x[22] = -200f;
            x[23] = 0f;
            assertEquals(scalar.max(x, 5, n), vector.max(x, 5, n), "max n=" + n);

            float[] e1 = x.clone();
            float[] e2 = x.clone();
            float[] sums1 = gauss(3, 2 * TileMath.LANES, 1, 0.5);
            float[] sums2 = sums1.clone();
            scalar.expShiftAccumulate(e1, 5, n, 1.25f, sums1, TileMath.LANES, 0.375f);
            vector.expShiftAccumulate(e2, 5, n, 1.25f, sums2, TileMath.LANES, 0.375f);
            assertArrayEquals(e1, e2, "expShiftAccumulate values n=" + n);
            assertArrayEquals(sums1, sums2, "expShiftAccumulate sums n=" + n);
            assertEquals(TileMath.total(sums1, TileMath.LANES), TileMath.total(sums2, TileMath.LANES));

            e1 = x.clone();
            e2 = x.clone();
            scalar.expShift(e1, 5, n, -0.5f);
            vector.expShift(e2, 5, n, -0.5f);
            assertArrayEquals(e1, e2, "expShift n=" + n);

            e1 = x.clone();
            e2 = x.clone();
            scalar.scale(e1, 5, n, 0.3f);
            vector.scale(e2, 5, n, 0.3f);
            assertArrayEquals(e1, e2, "scale n=" + n);

            float[] p = gauss(7, n + 5, 0.5, 0.2);
            float[] dp1 = gauss(8, n + 5, 0, 1);
            float[] dp2 = dp1.clone();
            scalar.softmaxGrad(p, dp1, 5, n, 0.125f);
            vector.softmaxGrad(p, dp2, 5, n, 0.125f);
            assertArrayEquals(dp1, dp2, "softmaxGrad n=" + n);
            float[] untouched = gauss(8, n + 5, 0, 1);
            assertArrayEquals(Arrays.copyOf(untouched, 5), Arrays.copyOf(dp2, 5), "softmaxGrad wrote before its offset");
        }
    }
}
