package dev.attn4j.backend.cpu;

import dev.attn4j.oracle.HostArrays;
import dev.attn4j.oracle.NormGrads;
import dev.attn4j.oracle.NormOracle;
import dev.attn4j.oracle.NormOutputs;
import dev.attn4j.oracle.NormProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU NormalizationPort against the float64 oracle ({@link NormOracle}), both kernel twins. The tests that need
 * only the backend get it from {@link EachBackend} (which also fails a test that leaves a tensor open).
 */
class CpuNormalizationTest {
    /**
     * Allowed error relative to {@code max(1, max|reference|)}: about 80 fp32 ulps, room for the rounding
     * of a few elementwise steps plus fp32 row statistics, far below what any wrong term would produce.
     */
    static final double TOL = 1e-5;
    /** DeepNorm's α = (2N)^(1/4) for an N = 12 layer encoder. */
    static final double DEEPNORM_ALPHA = Math.pow(2 * 12, 0.25);
    static final double EPS = 1e-5;

    enum Kind { LN_BIAS, LN_NO_BIAS, RMS }

    /** No residual; the fused form with α = 1; DeepNorm's α > 1 with an extra gradient {@code dSum}. */
    enum Residual { NONE, PLAIN, DEEPNORM }

    /** Which kernels run: the backend's own (vectorised when the Vector API is enabled) or the scalar twin. */
    enum Kernels { BACKEND, SCALAR }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (Residual residual : Residual.values()) {
                for (int c : new int[] {1, 7, 33, 512, 1000}) {
                    for (int rows : new int[] {1, 67}) {
                        for (Kernels kernels : Kernels.values()) {
                            all.add(Arguments.of(kind, residual, Shape.of(rows, c), kernels));
                        }
                    }
                }
            }
        }
        all.add(Arguments.of(Kind.LN_BIAS, Residual.DEEPNORM, Shape.of(3, 5, 33), Kernels.BACKEND));
        all.add(Arguments.of(Kind.RMS, Residual.PLAIN, Shape.of(2, 4, 3, 17), Kernels.BACKEND));
        all.add(Arguments.of(Kind.LN_NO_BIAS, Residual.NONE, Shape.of(64), Kernels.BACKEND));
        return all.stream();
    }

    @ParameterizedTest(name = "{0} residual={1} {2} {3}")
    @MethodSource("cases")
    void forwardAndBackwardMatchTheOracle(Kind kind, Residual residual, Shape shape, Kernels kernels) {
        CpuEngine engine = (CpuEngine) new CpuBackendProvider().open(BackendOptions.of(Map.of("threads", "2")));
        try (Backend backend = Backend.of(engine); WorkerPool scalarPool = new WorkerPool(2)) {
            NormalizationPort port = kernels == Kernels.SCALAR
                    ? new CpuNormalization(engine, scalarPool, ScalarNormKernels.INSTANCE) : backend.normalization();
            int c = shape.dim(-1);
            int rows = Math.toIntExact(shape.elementCount() / c);
            SplittableRandom rnd = new SplittableRandom(31L * shape.hashCode() + kind.ordinal() * 7 + residual.ordinal());
            Case k = Case.random(rnd, kind, residual, rows, c);

            NormOutputs ref = NormOracle.forward(k.problem(rows, c), Precision.FP64);
            NormGrads want = NormOracle.backward(k.problem(rows, c), HostArrays.doubles(k.dy),
                    HostArrays.doubles(k.dSum), Precision.FP64);

            NormRequest req = k.request(backend, shape);
            try (NormResult fwd = port.forward(req);
                 NormGradients g = port.backward(new NormBackwardRequest(req, fwd,
                         up(backend, k.dy, shape), k.dSum == null ? null : up(backend, k.dSum, shape)))) {
                assertClose("y", ref.y(), down(backend, fwd.y()));
                assertClose("rstd", ref.rstd(), down(backend, fwd.rstd()));
                if (kind == Kind.RMS) {
                    assertNull(fwd.mean(), "RMSNorm saves no mean");
                } else {
                    assertClose("mean", ref.mean(), down(backend, fwd.mean()));
                }
                if (residual == Residual.NONE) {
                    assertNull(fwd.sum(), "sum without a residual");
                    assertNull(g.dResidual(), "dResidual without a residual");
                } else {
                    assertClose("sum", ref.sum(), down(backend, fwd.sum()));
                    assertClose("dResidual", want.dResidual(), down(backend, g.dResidual()));
                }
                assertClose("dInput", want.dInput(), down(backend, g.dInput()));
                assertClose("dGamma", want.dGamma(), down(backend, g.dGamma()));
                if (kind == Kind.LN_BIAS) {
                    assertClose("dBeta", want.dBeta(), down(backend, g.dBeta()));
                } else {
                    assertNull(g.dBeta(), "dBeta without a bias");
                }
            }
        }
    }

    @EachBackend(value = "cpu", options = "threads=2")
    void varianceStaysAccurateFarFromZero(Backend backend) {
        // Values 1e4 ± 1: a one-pass E[h²] - E[h]² in fp32 would lose every digit of the variance.
        int rows = 5;
        int c = 777;
        SplittableRandom rnd = new SplittableRandom(5);
        Case k = Case.random(rnd, Kind.LN_BIAS, Residual.NONE, rows, c);
        for (int i = 0; i < k.x.length; i++) {
            k.x[i] = (float) (1e4 + rnd.nextGaussian());
        }
        NormOutputs ref = NormOracle.forward(k.problem(rows, c), Precision.FP64);
        double[] h = HostArrays.doubles(k.x);
        NormRequest req = k.request(backend, Shape.of(rows, c));
        try (NormResult fwd = backend.normalization().forward(req)) {
            float[] rstd = down(backend, fwd.rstd());
            float[] mean = down(backend, fwd.mean());
            float[] y = down(backend, fwd.y());
            double[] recentred = new double[y.length];
            for (int row = 0; row < rows; row++) {
                assertEquals(ref.rstd()[row], rstd[row], 1e-4 * ref.rstd()[row], "rstd of row " + row);
                // An fp32 mean near 1e4 is only good to about an ulp (~1e-3), which shifts every x̂ of the
                // row by as much; y must be exact up to that shift.
                assertEquals(ref.mean()[row], mean[row], Math.ulp((float) ref.mean()[row]), "mean of row " + row);
                for (int j = 0; j < c; j++) {
                    int i = row * c + j;
                    recentred[i] = (h[i] - mean[row]) * ref.rstd()[row] * k.gamma[j] + k.beta[j];
                }
            }
            assertClose("y (about the fp32 mean)", recentred, y);
        } finally {
            k.close(req);
        }
    }

    @EachBackend(value = "cpu", options = "threads=2")
    void sumIsTheNewResidualStreamAndBackwardReadsIt(Backend backend) {
        Shape shape = Shape.of(9, 40);
        Case k = Case.random(new SplittableRandom(9), Kind.RMS, Residual.DEEPNORM, 9, 40);
        NormRequest req = k.request(backend, shape);
        try (NormResult fwd = backend.normalization().forward(req)) {
            float[] sum = down(backend, fwd.sum());
            for (int i = 0; i < sum.length; i++) {
                assertEquals(Math.fma((float) k.alpha, k.r[i], k.x[i]), sum[i], 0f, "h at " + i);
            }
        } finally {
            k.close(req);
        }
    }

    @EachBackend(value = "cpu", options = "threads=1")
    void closingResultsFreesEveryTensor(Backend b) {
        Shape shape = Shape.of(4, 8);
        Case k = Case.random(new SplittableRandom(3), Kind.LN_BIAS, Residual.DEEPNORM, 4, 8);
        NormRequest req = k.request(b, shape);
        try (DeviceTensor dy = up(b, k.dy, shape); DeviceTensor dSum = up(b, k.dSum, shape)) {
            int before = b.openTensors().orElseThrow();
            try (NormResult fwd = b.normalization().forward(req)) {
                assertEquals(before + 4, b.openTensors().orElseThrow(), "y, mean, rstd, sum");
                try (NormGradients g = b.normalization().backward(new NormBackwardRequest(req, fwd, dy, dSum))) {
                    assertNotNull(g.dBeta());
                    assertEquals(before + 8, b.openTensors().orElseThrow(), "+ dInput, dResidual, dGamma, dBeta");
                }
            }
            assertEquals(before, b.openTensors().orElseThrow());
        } finally {
            // what is left open after this would fail the test (EachBackend's leak check)
            k.close(req);
        }
    }

    @Test
    void columnGradientsAreBitIdenticalAcrossThreadCounts() {
        int rows = 300;
        int c = 512;
        assertTrue(RowChunks.of(rows, c).count() > 1, "the case must span several chunks");
        Case k = Case.random(new SplittableRandom(11), Kind.LN_BIAS, Residual.DEEPNORM, rows, c);
        float[][] one = gradients(k, rows, c, 1);
        float[][] two = gradients(k, rows, c, 2);
        float[][] twoAgain = gradients(k, rows, c, 2);
        String[] names = {"dInput", "dResidual", "dGamma", "dBeta"};
        for (int i = 0; i < names.length; i++) {
            assertArrayEquals(one[i], two[i], names[i] + ": 1 vs 2 threads");
            assertArrayEquals(two[i], twoAgain[i], names[i] + ": run to run");
        }
    }

    private static float[][] gradients(Case k, int rows, int c, int threads) {
        Shape shape = Shape.of(rows, c);
        try (Backend b = Backend.of(new CpuBackendProvider().open(
                BackendOptions.of(Map.of("threads", Integer.toString(threads)))))) {
            NormRequest req = k.request(b, shape);
            NormResult fwd = b.normalization().forward(req);
            NormGradients g = b.normalization().backward(new NormBackwardRequest(req, fwd, up(b, k.dy, shape),
                    up(b, k.dSum, shape)));
            return new float[][] {down(b, g.dInput()), down(b, g.dResidual()), down(b, g.dGamma()), down(b, g.dBeta())};
        }
    }

    /** Host-side inputs of one case. */
    record Case(Kind kind, float[] x, float[] r, double alpha, float[] gamma, float[] beta, float[] dy, float[] dSum) {
        static Case random(SplittableRandom rnd, Kind kind, Residual residual, int rows, int c) {
            int n = rows * c;
            float[] x = gauss(rnd, n, 0.5, 2);
            float[] r = residual == Residual.NONE ? null : gauss(rnd, n, -0.3, 1.5);
            double alpha = residual == Residual.DEEPNORM ? DEEPNORM_ALPHA : 1;
            float[] gamma = gauss(rnd, c, 1, 0.3);
            float[] beta = kind == Kind.LN_BIAS ? gauss(rnd, c, 0, 0.5) : null;
            float[] dy = gauss(rnd, n, 0, 1);
            float[] dSum = residual == Residual.DEEPNORM ? gauss(rnd, n, 0, 0.7) : null;
            return new Case(kind, x, r, alpha, gamma, beta, dy, dSum);
        }

        /** The oracle's view of the case (γ, β and the inputs widened exactly from the uploaded floats). */
        NormProblem problem(int rows, int c) {
            return new NormProblem(kind == Kind.RMS ? NormKind.RMS_NORM : NormKind.LAYER_NORM, rows, c,
                    HostArrays.doubles(x), HostArrays.doubles(r), alpha, HostArrays.doubles(gamma),
                    HostArrays.doubles(beta), EPS);
        }

        /** Closes the tensors {@link #request} uploaded. */
        void close(NormRequest req) {
            req.input().close();
            req.gamma().close();
            if (req.beta() != null) req.beta().close();
            if (req.residual() != null) req.residual().close();
        }

        NormRequest request(Backend b, Shape shape) {
            int c = shape.dim(-1);
            DeviceTensor in = up(b, x, shape);
            DeviceTensor g = up(b, gamma, Shape.of(c));
            NormRequest req = kind == Kind.RMS ? NormRequest.rmsNorm(in, g, EPS)
                    : NormRequest.layerNorm(in, g, beta == null ? null : up(b, beta, Shape.of(c)), EPS);
            return r == null ? req : req.withResidual(up(b, r, shape), alpha);
        }
    }

    static float[] gauss(SplittableRandom rnd, int n, double mean, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (mean + std * rnd.nextGaussian());
        }
        return a;
    }

    static DeviceTensor up(Backend b, float[] data, Shape shape) {
        return b.tensors().upload(data, shape, DType.F32);
    }

    static float[] down(Backend b, DeviceTensor t) {
        return b.tensors().download(t);
    }

    static void assertClose(String what, double[] want, float[] got) {
        assertClose(what, HostArrays.doubles(got), want, TOL);
    }

    private static void assertClose(String what, double[] got, double[] want, double tol) {
        assertEquals(want.length, got.length, what + ": length");
        double scale = 1;
        for (double w : want) {
            scale = Math.max(scale, Math.abs(w));
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.length; i++) {
            double e = Math.abs(got[i] - want[i]);
            if (!(e <= worst)) {
                worst = e;
                at = i;
            }
        }
        if (!(worst <= tol * scale)) {
            throw new AssertionError(what + ": max error " + worst + " at " + at + " (want " + want[at] + ", got "
                    + got[at] + ") exceeds " + tol + " × " + scale);
        }
    }
}
