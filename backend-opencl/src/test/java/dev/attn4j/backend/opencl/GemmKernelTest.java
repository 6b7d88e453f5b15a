package dev.attn4j.backend.opencl;

import dev.attn4j.oracle.LinearOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GEMM in both of its shapes (the CPU one also with its reduction in chunks), the CPU one (8 × 32 blocks, packed panels) and the GPU one (4 × 4 blocks, operands
 * in place, 16 × 8 work-groups), both run here on POCL through the {@code gemm} option: every transpose pair, sizes on
 * and off the blocks, strided batches with shared operands, BLAS's alpha = 0 and beta = 0 (NaN in what must not be
 * read), against the float64 oracle; results bit-identical run to run.
 */
class GemmKernelTest {

    private static Backend open(String blocking) {
        OpenClTesting.openEngine().close();   // skips (or fails on CI) without OpenCL
        return Backend.of(new OpenClBackendProvider().open(BackendOptions.of(Map.of("gemm", blocking))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void everyTransposeAndSizeMatchesTheOracle(String blocking) {
        int[][] sizes = {{1, 1, 1}, {7, 5, 3}, {8, 32, 16}, {9, 33, 17}, {33, 65, 70}, {130, 47, 129}, {1, 200, 64},
                {64, 1, 9}};
        Random rnd = new Random(11);
        try (Backend backend = open(blocking)) {
            for (int[] s : sizes) {
                for (int form = 0; form < 4; form++) {
                    check(backend, rnd, 1, false, false, s[0], s[1], s[2], (form & 1) != 0, (form & 2) != 0, 1f, 0f);
                }
            }
            check(backend, rnd, 1, false, false, 37, 41, 23, false, true, -0.75f, 1.5f);
            check(backend, rnd, 3, false, false, 19, 35, 12, true, false, 1f, 0f);
            check(backend, rnd, 4, true, false, 10, 18, 33, false, true, 2f, 0.5f);
            check(backend, rnd, 2, false, true, 17, 9, 40, true, true, 1f, 1f);
            // Long reductions run in chunks of ClGemm.KC steps on CPU devices: raw sums kept in C (beta = 0) or in the
            // workspace (beta != 0), across a batch too.
            int k = 2 * ClGemm.KC + 477;
            check(backend, rnd, 1, false, false, 20, 37, k, true, false, 1f, 0f);
            check(backend, rnd, 2, false, false, 11, 45, k, false, true, 0.5f, 1f);
            check(backend, rnd, 1, false, false, 9, 70, k, false, false, 1f, -2f);
            check(backend, rnd, 1, false, false, 3, 50, k, true, false, 1f, 0f);      // A read in place (one block)
            check(backend, rnd, 1, false, false, 1, 64, k, false, false, 1f, 1f);     // B in place too
            assertEquals(0, backend.openTensors().orElseThrow(), "nothing left open");
        }
    }

    /** BLAS semantics: alpha = 0 reads neither A nor B, beta = 0 does not read C (NaN there stays out). */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void alphaZeroAndBetaZeroReadNothingTheyNeedNot(String blocking) {
        try (Backend backend = open(blocking)) {
            float[] nan = new float[12];
            Arrays.fill(nan, Float.NaN);
            try (DeviceTensor a = backend.tensors().upload(nan, Shape.of(3, 4), DType.F32);
                 DeviceTensor b = backend.tensors().upload(nan, Shape.of(4, 3), DType.F32);
                 DeviceTensor c = backend.tensors().upload(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, Shape.of(3, 3), DType.F32)) {
                backend.linear().matmul(new MatmulRequest(a, false, b, false, c, 0f, 2f));
                assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12, 14, 16, 18}, backend.tensors().download(c));
                backend.linear().matmul(new MatmulRequest(a, false, b, false, c, 0f, 0f));
                assertArrayEquals(new float[9], backend.tensors().download(c));
            }
            float[] ones = new float[12];
            Arrays.fill(ones, 1f);
            float[] cNan = new float[9];
            Arrays.fill(cNan, Float.NaN);
            try (DeviceTensor a = backend.tensors().upload(ones, Shape.of(3, 4), DType.F32);
                 DeviceTensor b = backend.tensors().upload(ones, Shape.of(4, 3), DType.F32);
                 DeviceTensor c = backend.tensors().upload(cNan, Shape.of(3, 3), DType.F32)) {
                backend.linear().matmul(MatmulRequest.of(a, b, c));
                float[] four = new float[9];
                Arrays.fill(four, 4f);
                assertArrayEquals(four, backend.tensors().download(c));
            }
        }
    }

    /** A linear layer's forward and backward give the same bits every time (no atomics, fixed orders). */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void linearForwardAndBackwardAreBitIdenticalRunToRun(String blocking) {
        Random rnd = new Random(5);
        int rows = 67;
        int in = 45;
        int out = 38;
        try (Backend backend = open(blocking);
             DeviceTensor x = backend.tensors().upload(random(rnd, rows * in), Shape.of(rows, in), DType.F32);
             DeviceTensor w = backend.tensors().upload(random(rnd, out * in), Shape.of(out, in), DType.F32);
             DeviceTensor b = backend.tensors().upload(random(rnd, out), Shape.of(out), DType.F32);
             DeviceTensor dy = backend.tensors().upload(random(rnd, rows * out), Shape.of(rows, out), DType.F32)) {
            float[][] first = null;
            for (int run = 0; run < 3; run++) {
                try (DeviceTensor dW = backend.tensors().zeros(w.shape(), DType.F32);
                     DeviceTensor db = backend.tensors().zeros(b.shape(), DType.F32);
                     DeviceTensor y = backend.linear().forward(LinearRequest.of(x, w, b));
                     DeviceTensor dx = backend.linear().backward(new LinearBackwardRequest(LinearRequest.of(x, w, b), dy,
                             true, dW, db))) {
                    float[][] now = {backend.tensors().download(y), backend.tensors().download(dx),
                            backend.tensors().download(dW), backend.tensors().download(db)};
                    if (first == null) {
                        first = now;
                    } else {
                        for (int i = 0; i < now.length; i++) {
                            assertArrayEquals(first[i], now[i], "output " + i + " of run " + run);
                        }
                    }
                }
            }
        }
    }

    /** The packing workspace is kept between calls, grown as needed, and released with the engine. */
    @ParameterizedTest
    @ValueSource(strings = {"cpu"})
    void thePackingWorkspaceIsKeptAndReleasedWithTheEngine(String blocking) {
        OpenClTesting.openEngine().close();
        OpenClEngine engine = (OpenClEngine) new OpenClBackendProvider().open(BackendOptions.of(Map.of("gemm", blocking)));
        Random rnd = new Random(3);
        try (Backend backend = Backend.of(engine)) {
            check(backend, rnd, 1, false, false, 40, 40, 40, false, true, 1f, 0f);
            long held = engine.gemm().workspaceBytes();
            assertTrue(held > 0, "packing panels kept");
            check(backend, rnd, 1, false, false, 20, 20, 20, false, true, 1f, 0f);
            assertEquals(held, engine.gemm().workspaceBytes(), "a smaller product reuses the panels");
        }
        assertEquals(0, engine.gemm().workspaceBytes(), "released with the engine");
        assertEquals(0, engine.liveBuffers());
    }

    private static void check(Backend backend, Random rnd, int batch, boolean aShared, boolean bShared, int m, int n, int k,
                              boolean ta, boolean tb, float alpha, float beta) {
        int aBatch = aShared ? 1 : batch;
        int bBatch = bShared ? 1 : batch;
        double[] a = doubles(random(rnd, aBatch * m * k));
        double[] b = doubles(random(rnd, bBatch * k * n));
        double[] c = doubles(random(rnd, batch * m * n));
        Shape as = ta ? Shape.of(k, m) : Shape.of(m, k);
        Shape bs = tb ? Shape.of(n, k) : Shape.of(k, n);
        Shape cs = Shape.of(m, n);
        if (batch > 1) {
            as = Shape.of(aBatch, as.dim(0), as.dim(1));
            bs = Shape.of(bBatch, bs.dim(0), bs.dim(1));
            cs = Shape.of(batch, m, n);
        }
        try (DeviceTensor ta0 = backend.tensors().upload(OpenClTesting.f32(a), as, DType.F32);
             DeviceTensor tb0 = backend.tensors().upload(OpenClTesting.f32(b), bs, DType.F32);
             DeviceTensor tc0 = backend.tensors().upload(OpenClTesting.f32(c), cs, DType.F32)) {
            backend.linear().matmul(new MatmulRequest(ta0, ta, tb0, tb, tc0, alpha, beta));
            var dims = new LinearOracle.MatmulDims(batch, aShared && batch > 1, bShared && batch > 1, m, n, k, ta, tb);
            double[] golden = LinearOracle.matmul(dims, a, b, c, alpha, beta, Precision.FP64);
            double[] ref = LinearOracle.matmul(dims, a, b, c, alpha, beta, Precision.of(DType.F32));
            PassRule.check("C " + batch + "x" + m + "x" + n + "x" + k + (ta ? " Aᵀ" : "") + (tb ? " Bᵀ" : ""), golden, ref,
                    backend.tensors().download(tc0), DType.F32).requirePassed();
        }
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    private static double[] doubles(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
