package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CPU optimizer port: AdamW against PyTorch's formulas in double, clipping, sums of squares, determinism. */
class CpuOptimizerTest {
    private static final float LR = 1e-2f;
    private static final float B1 = 0.9f;
    private static final float B2 = 0.999f;
    private static final float EPS = 1e-8f;
    private static final float WD = 0.1f;

    private Backend backend;

    @BeforeEach
    void open() {
        backend = Backend.of(new CpuEngine(2));
    }

    @AfterEach
    void close() {
        backend.close();
    }

    private static float[] gauss(long seed, int n, double scale) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * scale);
        }
        return x;
    }

    private DeviceTensor up(float[] x) {
        return backend.tensors().upload(x, Shape.of(x.length), DType.F32);
    }

    /** {@code torch.optim.AdamW}'s single-tensor step in double; returns {p, m, v} after {@code steps} steps. */
    private static double[][] reference(float[] p0, float[][] grads, int steps, double clip) {
        int n = p0.length;
        double[] p = new double[n];
        double[] m = new double[n];
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = p0[i];
        }
        for (int t = 1; t <= steps; t++) {
            double bc1 = 1 - Math.pow(B1, t);
            double bc2 = 1 - Math.pow(B2, t);
            for (int i = 0; i < n; i++) {
                double g = grads[t - 1][i] * clip;
                p[i] *= 1 - (double) LR * WD;
                m[i] = B1 * m[i] + (1 - (double) B1) * g;
                v[i] = B2 * v[i] + (1 - (double) B2) * g * g;
                p[i] -= LR / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + EPS);
            }
        }
        return new double[][] {p, m, v};
    }

    @ParameterizedTest(name = "{0} steps")
    @ValueSource(ints = {1, 10})
    void adamWFollowsPyTorch(int steps) {
        int n = 1000;
        float[] p0 = gauss(1, n, 1);
        float[][] grads = new float[steps][];
        for (int t = 0; t < steps; t++) {
            grads[t] = gauss(100 + t, n, 0.1);
        }
        DeviceTensor p = up(p0);
        DeviceTensor m = up(new float[n]);
        DeviceTensor v = up(new float[n]);
        for (int t = 1; t <= steps; t++) {
            backend.optimizer().adamW(new AdamWRequest(p, up(grads[t - 1]), m, v, t, LR, B1, B2, EPS, WD, null));
        }
        double[][] want = reference(p0, grads, steps, 1);
        float[][] got = {backend.tensors().download(p), backend.tensors().download(m), backend.tensors().download(v)};
        String[] names = {"params", "expAvg", "expAvgSq"};
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < n; i++) {
                // a few fp32 roundings per step, compounding over the steps
                assertEquals(want[k][i], got[k][i], 2e-6 * steps * Math.max(Math.abs(want[k][i]), 1e-3),
                        names[k] + "[" + i + "] after " + steps + " steps");
            }
        }
    }

    @Test
    void firstStepMovesEachParameterByAboutLrAgainstItsGradientSign() {
        float[] p0 = {1f, 1f, 1f};
        float[] g = {0.5f, -2f, 1e-3f};
        DeviceTensor p = up(p0);
        backend.optimizer().adamW(new AdamWRequest(p, up(g), up(new float[3]), up(new float[3]), 1, LR, B1, B2, EPS, 0f,
                null));
        float[] got = backend.tensors().download(p);
        for (int i = 0; i < 3; i++) {
            // m̂ = g and √v̂ = |g| after one step: the update is lr·g/(|g| + ε)
            assertEquals(1 - LR * Math.signum(g[i]), got[i], 1e-6, "param " + i);
        }
    }

    @Test
    void clippingScalesGradientsByTheGlobalNorm() {
        int n = 300;
        float[] p0 = gauss(2, n, 1);
        float[] g = gauss(3, n, 1);
        DeviceTensor norm2 = up(new float[1]);
        backend.optimizer().sumOfSquares(new SumOfSquaresRequest(up(g), norm2));
        float ss = backend.tensors().download(norm2)[0];
        // maxNorm below the norm: every gradient is multiplied by maxNorm / (norm + 1e-6)
        float maxNorm = 0.5f;
        DeviceTensor p = up(p0);
        DeviceTensor m = up(new float[n]);
        DeviceTensor v = up(new float[n]);
        backend.optimizer().adamW(new AdamWRequest(p, up(g), m, v, 1, LR, B1, B2, EPS, WD, new GradientClip(maxNorm, norm2)));
        double factor = maxNorm / (Math.sqrt(ss) + 1e-6);
        double[][] want = reference(p0, new float[][] {g}, 1, factor);
        float[] gotM = backend.tensors().download(m);
        for (int i = 0; i < n; i++) {
            assertEquals(want[1][i], gotM[i], 1e-6 * Math.abs(want[1][i]) + 1e-12, "expAvg " + i);
        }
        // maxNorm above the norm: factor 1, the same bits as without clipping
        DeviceTensor p1 = up(p0);
        DeviceTensor p2 = up(p0);
        DeviceTensor m1 = up(new float[n]);
        DeviceTensor m2 = up(new float[n]);
        DeviceTensor v1 = up(new float[n]);
        DeviceTensor v2 = up(new float[n]);
        backend.optimizer().adamW(new AdamWRequest(p1, up(g), m1, v1, 3, LR, B1, B2, EPS, WD, new GradientClip(1e6f, norm2)));
        backend.optimizer().adamW(new AdamWRequest(p2, up(g), m2, v2, 3, LR, B1, B2, EPS, WD, null));
        assertArrayEquals(backend.tensors().download(p2), backend.tensors().download(p1));
    }

    @Test
    void sumOfSquaresIsTheExactSumRoundedOnceAndAccumulates() {
        int n = 5 * WorkerPool.RANGE + 123;
        float[] x = gauss(4, n, 3);
        DeviceTensor acc = up(new float[] {2.5f});
        DeviceTensor xv = Views.floats(backend, x, Shape.of(n), DType.F32);
        backend.optimizer().sumOfSquares(new SumOfSquaresRequest(xv, acc));
        BigDecimal exact = BigDecimal.valueOf(2.5);
        for (float f : x) {
            exact = exact.add(new BigDecimal(f).multiply(new BigDecimal(f)));
        }
        float got = backend.tensors().download(acc)[0];
        assertEquals(exact.floatValue(), got, Math.ulp(got), "Σx² + 2.5 within an ulp of the exact value");
    }

    @Test
    void sameBitsForAnyThreadCountAndTwin() {
        int n = 4 * WorkerPool.RANGE + 77;
        float[] p0 = gauss(5, n, 1);
        float[] g = gauss(6, n, 0.1);
        float[][] first = null;
        for (int threads : new int[] {1, 2, 3}) {
            try (Backend b = Backend.of(new CpuEngine(threads))) {
                DeviceTensor p = b.tensors().upload(p0, Shape.of(n), DType.F32);
                DeviceTensor gt = b.tensors().upload(g, Shape.of(n), DType.F32);
                DeviceTensor m = b.tensors().upload(g, Shape.of(n), DType.F32);
                DeviceTensor ss = b.tensors().upload(new float[1], Shape.of(1), DType.F32);
                b.optimizer().sumOfSquares(new SumOfSquaresRequest(gt, ss));
                b.optimizer().adamW(new AdamWRequest(p, gt, m, b.tensors().upload(absolute(p0), Shape.of(n), DType.F32),
                        7, LR, B1, B2, EPS, WD, new GradientClip(1f, ss)));
                float[][] got = {b.tensors().download(p), b.tensors().download(m), b.tensors().download(ss)};
                if (first == null) {
                    first = got;
                } else {
                    for (int k = 0; k < got.length; k++) {
                        assertArrayEquals(first[k], got[k], "output " + k + " with " + threads + " threads");
                    }
                }
            }
        }
    }

    private static float[] absolute(float[] x) {
        float[] a = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            a[i] = Math.abs(x[i]);
        }
        return a;
    }

    @Test
    void twinsAreBitIdentical() {
        assumeTrue(Simd.available(), "Vector API not enabled in this JVM");
        ElementwiseKernels vector = VectorElementwiseKernels.create();
        ElementwiseKernels scalar = ScalarElementwiseKernels.INSTANCE;
        var step = new ElementwiseKernels.AdamWStep(0.7f, 0.999f, B1, 1 - B1, B2, 1 - B2, -0.01f, 0.3f, EPS);
        for (int n : new int[] {1, 15, 16, 17, 100}) {
            float[][] a = {gauss(7, n + 3, 1), gauss(8, n + 3, 1), gauss(9, n + 3, 0.1), absolute(gauss(10, n + 3, 0.1))};
            float[][] b = {a[0].clone(), a[1].clone(), a[2].clone(), a[3].clone()};
            scalar.adamW(step, a[0], 1, a[1], 2, a[2], 0, a[3], 3, n);
            vector.adamW(step, b[0], 1, b[1], 2, b[2], 0, b[3], 3, n);
            for (int k = 0; k < 4; k++) {
                assertArrayEquals(a[k], b[k], "adamW n=" + n + " array " + k);
            }
        }
    }

    @Test
    void viewsSharingStorageAreRejected() {
        DeviceTensor base = up(gauss(11, 40, 1));
        float[] before = backend.tensors().download(base);
        DeviceTensor p = backend.tensors().view(base, 0, Shape.of(10));
        DeviceTensor g = backend.tensors().view(base, 5, Shape.of(10));
        assertThrows(InvalidRequestException.class, () -> backend.optimizer().adamW(new AdamWRequest(p, g,
                backend.tensors().view(base, 20, Shape.of(10)), backend.tensors().view(base, 30, Shape.of(10)), 1, LR, B1,
                B2, EPS, WD, null)));
        assertArrayEquals(before, backend.tensors().download(base));
    }
}
