package dev.attn4j.backend.cuda;

import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionGrads;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.NormGrads;
import dev.attn4j.oracle.NormOracle;
import dev.attn4j.oracle.NormOutputs;
import dev.attn4j.oracle.NormProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static dev.attn4j.oracle.HostArrays.doubles;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every cuda op against the float64 oracle (module {@code oracle}), on a real device. Skipped, with the probe's
 * reason, where the backend is unavailable (CI, this project's build machines).
 *
 * <p>Tolerances are fixed per dtype before looking at any result: {@code k · u · max(1, max|ref|)} with
 * u the unit roundoff of the storage type (2^-24, 2^-11, 2^-8) and k = 8 for fp16/bf16 (the output's own
 * rounding is half an ulp; the rest covers the rounding of o before delta = rowsum(dO·o) in backward),
 * and an absolute 1e-4 for fp32 (fp32 sums of up to a few hundred terms).
 */
class CudaGpuTest {
    private static Availability availability;

    @BeforeAll
    static void probe() {
        availability = new CudaBackendProvider().probe();
    }

    private static Backend open() {
        assumeTrue(availability.available(), availability.reason());
        return Backend.of(new CudaBackendProvider().open(BackendOptions.none()));
    }

    static Stream<Arguments> attentionCases() {
        List<Arguments> cases = new ArrayList<>();
        int[][] shapes = {
                {2, 37, 53, 4, 2, 40},   // GQA, ragged tiles, D in the 64 bucket
                {1, 64, 64, 2, 2, 128},  // square, exact tiles
                {1, 70, 33, 3, 1, 16},   // MQA, Sq > Sk: causal leaves the first rows empty
                {1, 19, 40, 2, 2, 256},  // largest head dim
                {1, 9, 9, 1, 1, 1},      // D = 1
        };
        for (DType dtype : KernelCatalog.DTYPES) {
            for (int[] s : shapes) {
                for (boolean causal : new boolean[] {false, true}) {
                    cases.add(Arguments.of(dtype, s, causal));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} causal={2}")
    @MethodSource("attentionCases")
    void attentionForwardAndBackwardMatchTheOracle(DType dtype, int[] s, boolean causal) {
        AttentionDims n = new AttentionDims(s[0], s[1], s[2], s[3], s[4], s[5]);
        Random rnd = new Random(42);
        try (Backend cuda = open()) {
            DeviceTensor q = upload(cuda, rnd, queryShape(n), dtype);
            DeviceTensor k = upload(cuda, rnd, keyShape(n), dtype);
            DeviceTensor v = upload(cuda, rnd, keyShape(n), dtype);
            DeviceTensor dO = upload(cuda, rnd, queryShape(n), dtype);
            // the reference sees exactly the values the device holds (rounded to dtype on upload)
            float[] qh = cuda.tensors().download(q);
            float[] kh = cuda.tensors().download(k);
            float[] vh = cuda.tensors().download(v);
            float[] dOh = cuda.tensors().download(dO);
            AttentionOptions options = AttentionOptions.builder().causal(causal).build();
            double scale = options.scaleFor(n.headDim());

            AttentionProblem problem = AttentionProblem.plain(n, doubles(qh), doubles(kh), doubles(vh), scale, causal);
            AttentionOutputs want = AttentionOracle.forward(problem, Precision.FP64);
            try (AttentionResult got = cuda.attention().forward(new AttentionRequest(q, k, v, options))) {
                assertClose("o", want.o(), cuda.tensors().download(got.o()), dtype);
                assertLse(want.lse(), cuda.tensors().download(got.lse()));

                AttentionGrads grads = AttentionOracle.backward(problem, doubles(dOh), Precision.FP64);
                var request = new AttentionBackwardRequest(dO, q, k, v, got.o(), got.lse(), options);
                try (AttentionGradients g = cuda.attention().backward(request)) {
                    assertClose("dq", grads.dq(), cuda.tensors().download(g.dq()), dtype);
                    assertClose("dk", grads.dk(), cuda.tensors().download(g.dk()), dtype);
                    assertClose("dv", grads.dv(), cuda.tensors().download(g.dv()), dtype);
                }
            }
        }
    }

    static Stream<Arguments> tensorCoreCases() {
        List<Arguments> cases = new ArrayList<>();
        int[][] shapes = {
                {2, 70, 90, 4, 2, 64},    // GQA, ragged query and key tiles
                {1, 100, 37, 2, 1, 100},  // MQA, Sq > Sk (empty causal rows), D padded to 128
                {1, 128, 128, 2, 2, 128}, // exact tiles
                {1, 5, 7, 1, 1, 8},       // tiny, D padded to 64
        };
        for (DType dtype : KernelCatalog.TENSOR_CORE_DTYPES) {
            for (int[] s : shapes) {
                for (boolean causal : new boolean[] {false, true}) {
                    cases.add(Arguments.of(dtype, s, causal));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} causal={2}")
    @MethodSource("tensorCoreCases")
    void tensorCoreForwardMatchesTheOracle(DType dtype, int[] s, boolean causal) {
        assumeTrue(availability.available(), availability.reason());
        AttentionDims n = new AttentionDims(s[0], s[1], s[2], s[3], s[4], s[5]);
        Random rnd = new Random(43);
        try (Backend cuda = Backend.of(new CudaBackendProvider().open(BackendOptions.of(Map.of("tensorCores", "true"))))) {
            DeviceTensor q = upload(cuda, rnd, queryShape(n), dtype);
            DeviceTensor k = upload(cuda, rnd, keyShape(n), dtype);
            DeviceTensor v = upload(cuda, rnd, keyShape(n), dtype);
            AttentionOptions options = AttentionOptions.builder().causal(causal).build();
            AttentionOutputs want = AttentionOracle.forward(AttentionProblem.plain(n, doubles(cuda.tensors().download(q)),
                    doubles(cuda.tensors().download(k)), doubles(cuda.tensors().download(v)),
                    options.scaleFor(n.headDim()), causal), Precision.FP64);
            try (AttentionResult got = cuda.attention().forward(new AttentionRequest(q, k, v, options))) {
                assertClose("o", want.o(), cuda.tensors().download(got.o()), dtype);
                assertLse(want.lse(), cuda.tensors().download(got.lse()));
            }
        }
    }

    /** Through {@link EachBackend}: skipped with the probe's reason where cuda is unavailable, failed on a leak. */
    @EachBackend("cuda")
    void backwardIsBitIdenticalRunToRun(Backend cuda) {
        Random rnd = new Random(5);
        AttentionOptions options = AttentionOptions.builder().causal(true).deterministic(true).build();
        try (DeviceTensor q = upload(cuda, rnd, Shape.of(2, 200, 8, 64), DType.BF16);
             DeviceTensor k = upload(cuda, rnd, Shape.of(2, 300, 2, 64), DType.BF16);
             DeviceTensor v = upload(cuda, rnd, Shape.of(2, 300, 2, 64), DType.BF16);
             DeviceTensor dO = upload(cuda, rnd, Shape.of(2, 200, 8, 64), DType.BF16);
             AttentionResult fwd = cuda.attention().forward(new AttentionRequest(q, k, v, options))) {
            var request = new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), options);
            try (AttentionGradients a = cuda.attention().backward(request);
                 AttentionGradients b = cuda.attention().backward(request)) {
                assertArrayEquals(cuda.tensors().download(a.dq()), cuda.tensors().download(b.dq()));
                assertArrayEquals(cuda.tensors().download(a.dk()), cuda.tensors().download(b.dk()));
                assertArrayEquals(cuda.tensors().download(a.dv()), cuda.tensors().download(b.dv()));
            }
        }
    }

    static Stream<Arguments> normCases() {
        // bias only with LayerNorm: RMSNorm has none
        return Stream.of(
                Arguments.of(DType.F32, DType.F32, false, false, false),
                Arguments.of(DType.F32, DType.F32, false, true, true),
                Arguments.of(DType.F32, DType.F32, true, false, false),
                Arguments.of(DType.F32, DType.F32, true, true, false),
                Arguments.of(DType.BF16, DType.F32, false, false, true),
                Arguments.of(DType.BF16, DType.BF16, true, false, false),
                Arguments.of(DType.BF16, DType.BF16, false, true, true),
                Arguments.of(DType.F16, DType.F16, false, true, false),
                Arguments.of(DType.F16, DType.F32, true, true, false));
    }

    @ParameterizedTest(name = "input {0} gamma {1} rms={2} residual={3} bias={4}")
    @MethodSource("normCases")
    void normForwardAndBackwardMatchTheOracle(DType dtype, DType gammaType, boolean rms, boolean residual, boolean bias) {
        int rows = 300;
        int c = 1000;  // not a multiple of the block size
        double alpha = residual ? 1.7 : 1.0;
        double eps = 1e-5;
        Random rnd = new Random(9);
        try (Backend cuda = open()) {
            DeviceTensor x = upload(cuda, rnd, Shape.of(3, rows / 3, c), dtype);
            DeviceTensor res = residual ? upload(cuda, rnd, Shape.of(3, rows / 3, c), dtype) : null;
            DeviceTensor gamma = upload(cuda, rnd, Shape.of(c), gammaType);
            DeviceTensor beta = bias ? upload(cuda, rnd, Shape.of(c), gammaType) : null;
            DeviceTensor dy = upload(cuda, rnd, Shape.of(3, rows / 3, c), dtype);
            DeviceTensor dSum = residual ? upload(cuda, rnd, Shape.of(3, rows / 3, c), dtype) : null;
            float[] xh = cuda.tensors().download(x);
            float[] resh = residual ? cuda.tensors().download(res) : null;
            float[] gh = cuda.tensors().download(gamma);
            float[] bh = bias ? cuda.tensors().download(beta) : null;
            float[] dyh = cuda.tensors().download(dy);

            NormRequest request = rms ? NormRequest.rmsNorm(x, gamma, eps) : NormRequest.layerNorm(x, gamma, beta, eps);
            if (residual) {
                request = request.withResidual(res, alpha);
            }
            float[] dSumH = residual ? cuda.tensors().download(dSum) : null;
            NormProblem problem = new NormProblem(rms ? NormKind.RMS_NORM : NormKind.LAYER_NORM, rows, c, doubles(xh),
                    doubles(resh), alpha, doubles(gh), doubles(bh), eps);
            NormOutputs want = NormOracle.forward(problem, Precision.FP64);
            try (NormResult got = cuda.normalization().forward(request)) {
                assertClose("y", want.y(), cuda.tensors().download(got.y()), dtype);
                assertClose("rstd", want.rstd(), cuda.tensors().download(got.rstd()), dtype);
                if (!rms) {
                    assertClose("mean", want.mean(), cuda.tensors().download(got.mean()), dtype);
                }
                if (residual) {
                    assertClose("sum", want.sum(), cuda.tensors().download(got.sum()), dtype);
                }
                NormGrads g = NormOracle.backward(problem, doubles(dyh), doubles(dSumH), Precision.FP64);
                try (NormGradients grads = cuda.normalization().backward(new NormBackwardRequest(request, got, dy, dSum))) {
                    assertClose("dInput", g.dInput(), cuda.tensors().download(grads.dInput()), dtype);
                    if (residual) {
                        assertClose("dResidual", g.dResidual(), cuda.tensors().download(grads.dResidual()), dtype);
                    }
                    // column sums over 300 rows: the fp32 bound grows with the row count
                    assertClose("dGamma", g.dGamma(), cuda.tensors().download(grads.dGamma()), gammaType);
                    if (bias) {
                        assertClose("dBeta", g.dBeta(), cuda.tensors().download(grads.dBeta()), gammaType);
                    }
                }
            }
        }
    }

    @Test
    void deviceMemoryReturnsToItsBaselineAfterManyOpenCloseCycles() {
        assumeTrue(availability.available(), availability.reason());
        CudaBackendProvider provider = new CudaBackendProvider();
        // Holding the primary context ourselves keeps it alive across the engines' close, so what we measure
        // is the engine's own bookkeeping (tensors it must free, modules it must unload).
        try (Context held = Context.open(0)) {
            provider.open(BackendOptions.none()).close();  // warm-up: first-load costs are not leaks
            long baseline = freeMemory(held);
            Random rnd = new Random(1);
            for (int cycle = 0; cycle < 40; cycle++) {
                try (Backend cuda = Backend.of(provider.open(BackendOptions.none()))) {
                    DeviceTensor q = upload(cuda, rnd, Shape.of(1, 256, 4, 64), DType.BF16);
                    DeviceTensor k = upload(cuda, rnd, Shape.of(1, 256, 4, 64), DType.BF16);
                    // result and inputs deliberately left open: closing the backend must free them
                    cuda.attention().forward(new AttentionRequest(q, k, k, AttentionOptions.DEFAULT));
                    cuda.tensors().zeros(Shape.of(4 << 20), DType.F32);
                }
            }
            long after = freeMemory(held);
            long leaked = baseline - after;
            assertTrue(leaked <= 8L << 20, "free device memory fell by " + (leaked >> 20) + " MiB over 40 cycles");
        }
    }

    @Test
    void closingTheBackendClosesItsTensors() {
        Random rnd = new Random(2);
        DeviceTensor t;
        try (Backend cuda = open()) {
            t = upload(cuda, rnd, Shape.of(16), DType.F32);
            assertEquals(false, t.isClosed());
        }
        assertTrue(t.isClosed());
        t.close();  // idempotent, even after the engine is gone
    }

    private static long freeMemory(Context context) {
        context.makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        Driver.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }

    static Shape queryShape(AttentionDims n) {
        return Shape.of(n.batch(), n.seqQ(), n.heads(), n.headDim());
    }

    static Shape keyShape(AttentionDims n) {
        return Shape.of(n.batch(), n.seqK(), n.kvHeads(), n.headDim());
    }

    static DeviceTensor upload(Backend backend, Random rnd, Shape shape, DType dtype) {
        float[] data = new float[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rnd.nextGaussian();
        }
        return backend.tensors().upload(data, shape, dtype);
    }

    private static double unitRoundoff(DType dtype) {
        return switch (dtype) {
            case F16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            default -> 0x1p-24;
        };
    }

    static void assertClose(String name, double[] want, float[] got, DType dtype) {
        assertEquals(want.length, got.length, name + " length");
        double maxRef = 1;
        for (double w : want) {
            if (Double.isFinite(w)) {
                maxRef = Math.max(maxRef, Math.abs(w));
            }
        }
        double tol = dtype == DType.F32 ? 1e-4 * maxRef : 8 * unitRoundoff(dtype) * maxRef;
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(got[i])) {
                fail(name + "[" + i + "] is NaN (want " + want[i] + ")");
            }
            double err = Math.abs(want[i] - got[i]);
            if (err > worst) {
                worst = err;
                worstAt = i;
            }
        }
        if (worst > tol) {
            fail(name + ": max error " + worst + " at " + worstAt + " (want " + want[worstAt] + ", got " + got[worstAt]
                    + ") exceeds " + tol + " for " + dtype);
        }
    }

    static void assertLse(double[] want, float[] got) {
        double[] finite = new double[want.length];
        float[] gotFinite = new float[got.length];
        for (int i = 0; i < want.length; i++) {
            if (want[i] == Double.NEGATIVE_INFINITY) {
                assertEquals(Float.NEGATIVE_INFINITY, got[i], "lse[" + i + "] of a row with no visible key");
            } else {
                finite[i] = want[i];
                gotFinite[i] = got[i];
            }
        }
        assertClose("lse", finite, gotFinite, DType.F32);
    }
}
