package dev.attn4j.backend.cpu;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link CpuNormKernels}: the scalar and Vector API row kernels side by side: elementwise results bit-identical, sums equal up
 * to fp32 summation order. (Simd reads {@code attn4j.cpu.scalar} once, so the twins are called directly.)
 */
class CpuNormKernelsTwinTest extends KernelTwinTestCase {
    /** Row at offset 5 in a longer array, so offsets and row tails are exercised. */
    private static final int OFF = 5;
    /** Second inputs and outputs at other offsets, so a kernel using one array's offset for another fails. */
    private static final int OFF2 = 6;
    private static final int OUT = 7;

    private static CpuNormKernels vector;
    private static final CpuNormKernels SCALAR = KernelTwinTestCase.SCALAR.norm();

    @BeforeAll
    static void vectorKernels() {
        vector = vector().norm();
    }

    @ParameterizedTest(name = "C = {0}")
    @ValueSource(ints = {1, 7, 16, 33, 1000})
    void elementwiseKernelsAreBitIdentical(int c) {
        SplittableRandom rnd = new SplittableRandom(c);
        float[] x = CpuNormalizationTest.gauss(rnd, OFF + c + 3, 0.5, 2);
        float[] r = CpuNormalizationTest.gauss(rnd, x.length, 0, 1);
        float[] dy = CpuNormalizationTest.gauss(rnd, x.length, 0, 1);
        float[] dSum = CpuNormalizationTest.gauss(rnd, x.length, 0, 1);
        float[] gamma = CpuNormalizationTest.gauss(rnd, c, 1, 0.3);
        float[] beta = CpuNormalizationTest.gauss(rnd, c, 0, 0.5);
        float alpha = 2.2134f;
        float mean = 0.47f;
        float rstd = 0.61f;

        assertArrayEquals(run(k -> k.residualSum(x, OFF, r, OFF2, alpha, out(k), OUT, c)),
                runVector(k -> k.residualSum(x, OFF, r, OFF2, alpha, out(k), OUT, c)), "residualSum");
        for (float[] b : new float[][] {beta, null}) {
            assertArrayEquals(run(k -> k.normalize(x, OFF, c, mean, rstd, gamma, 0, b, 0, out(k), OUT)),
                    runVector(k -> k.normalize(x, OFF, c, mean, rstd, gamma, 0, b, 0, out(k), OUT)),
                    "normalize, beta " + (b != null));
        }
        for (float[] ds : new float[][] {dSum, null}) {
            float[] dr1 = new float[x.length];
            float[] dr2 = new float[x.length];
            float[] dh1 = new float[x.length];
            float[] dh2 = new float[x.length];
            SCALAR.inputGradient(dy, OFF2, x, OFF, c, mean, rstd, gamma, 0, 0.3f, -0.2f, ds, OFF, dh1, OUT - 2, dr1, OFF2,
                    alpha);
            vector.inputGradient(dy, OFF2, x, OFF, c, mean, rstd, gamma, 0, 0.3f, -0.2f, ds, OFF, dh2, OUT - 2, dr2, OFF2,
                    alpha);
            assertArrayEquals(dh1, dh2, "inputGradient dh, dSum " + (ds != null));
            assertArrayEquals(dr1, dr2, "inputGradient dResidual, dSum " + (ds != null));
        }
        float[] g1 = CpuNormalizationTest.gauss(new SplittableRandom(1), c, 0, 1);
        float[] g2 = g1.clone();
        float[] b1 = new float[c];
        float[] b2 = new float[c];
        float[] s1 = new float[2];
        float[] s2 = new float[2];
        SCALAR.gradientSums(dy, OFF2, x, OFF, c, mean, rstd, gamma, 0, g1, b1, s1);
        vector.gradientSums(dy, OFF2, x, OFF, c, mean, rstd, gamma, 0, g2, b2, s2);
        assertArrayEquals(g1, g2, "gradientSums dGamma partial");
        assertArrayEquals(b1, b2, "gradientSums dBeta partial");
        double absG = 0;
        double absGx = 0;
        for (int j = 0; j < c; j++) {
            double g = (double) dy[OFF2 + j] * gamma[j];
            absG += Math.abs(g);
            absGx += Math.abs(g * (x[OFF + j] - mean) * rstd);
        }
        assertEquals(s1[0], s2[0], summationBound(c, absG), "Σ g");
        assertEquals(s1[1], s2[1], summationBound(c, absGx), "Σ g·x̂");
    }

    @ParameterizedTest(name = "C = {0}")
    @ValueSource(ints = {1, 7, 16, 33, 1000})
    void statisticsAgreeToSummationError(int c) {
        SplittableRandom rnd = new SplittableRandom(100 + c);
        float[] x = CpuNormalizationTest.gauss(rnd, OFF + c, 3, 2);
        double abs = 0;
        double sq = 0;
        for (int j = 0; j < c; j++) {
            abs += Math.abs(x[OFF + j] - x[OFF]);
            sq += (double) x[OFF + j] * x[OFF + j];
        }
        float shift = x[OFF];
        assertEquals(SCALAR.sumAbout(x, OFF, c, shift), vector.sumAbout(x, OFF, c, shift), summationBound(c, abs), "sumAbout");
        assertEquals(SCALAR.squares(x, OFF, c), vector.squares(x, OFF, c), summationBound(c, sq), "squares");
        float centre = 3.1f;
        double dev = 0;
        for (int j = 0; j < c; j++) {
            dev += Math.pow(x[OFF + j] - centre, 2);
        }
        assertEquals(SCALAR.centredSquares(x, OFF, c, centre), vector.centredSquares(x, OFF, c, centre),
                2 * summationBound(c, dev), "centredSquares");
    }

    /** Twice the classic bound on each twin's recursive-summation error, {@code (n - 1)·u·Σ|term|}. */
    private static double summationBound(int n, double sumOfAbs) {
        return 2 * Math.max(1, n - 1) * 0x1p-24 * sumOfAbs + Float.MIN_NORMAL;
    }

    private interface RowOp {
        void apply(CpuNormKernels k);
    }

    private float[] scalarOut;
    private float[] vectorOut;

    private float[] out(CpuNormKernels k) {
        return k == SCALAR ? scalarOut : vectorOut;
    }

    private float[] run(RowOp op) {
        scalarOut = new float[OFF + 1003 + 3];
        op.apply(SCALAR);
        return scalarOut;
    }

    private float[] runVector(RowOp op) {
        vectorOut = new float[OFF + 1003 + 3];
        op.apply(vector);
        return vectorOut;
    }
}
