package dev.attn4j.backend.cpu;

import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionGrads;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static dev.attn4j.oracle.HostArrays.doubles;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kernel-level checks of the tiled CPU attention against the float64 oracle ({@link AttentionOracle}), close to
 * the code so that tiling bugs show up here first. Both twins run: the Vector API one and the scalar one.
 */
class TiledCpuAttentionTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                // b, sq, sk, h, hkv, d, causal
                Arguments.of(1, 1, 1, 1, 1, 16, false),
                Arguments.of(2, 65, 65, 4, 4, 64, true),
                Arguments.of(1, 130, 77, 8, 2, 40, false),
                Arguments.of(1, 77, 130, 8, 1, 40, true),
                Arguments.of(2, 100, 30, 4, 2, 80, true),   // Sq > Sk: the first rows see no key
                Arguments.of(1, 129, 129, 2, 2, 128, true),
                Arguments.of(1, 33, 200, 2, 1, 256, false),
                // The backward splits a query-head group: two heads per split (16:2), splits and key chunks (4:2)
                Arguments.of(1, 150, 300, 16, 2, 24, true),
                Arguments.of(1, 200, 260, 4, 2, 32, false),
                // Sq = 1 runs AttentionDecode: several key splits (MQA, GQA with packed V, MHA) combined by LSE
                Arguments.of(1, 1, 1000, 8, 1, 64, true),
                Arguments.of(2, 1, 700, 8, 2, 40, false),
                Arguments.of(1, 1, 513, 4, 4, 128, true));
    }

    @ParameterizedTest(name = "B={0} Sq={1} Sk={2} H={3} Hkv={4} D={5} causal={6}")
    @MethodSource("cases")
    void vectorAndScalarTwinsMatchPlainAttention(int b, int sq, int sk, int h, int hkv, int d, boolean causal) {
        for (TileMath math : twins()) {
            for (int threads : new int[]{1, 2}) {
                check(math, threads, b, sq, sk, h, hkv, d, causal);
            }
        }
    }

    @ParameterizedTest(name = "B={0} Sq={1} Sk={2} H={3} Hkv={4} D={5} causal={6}")
    @MethodSource("cases")
    void backwardIsBitIdenticalAcrossThreadCounts(int b, int sq, int sk, int h, int hkv, int d, boolean causal) {
        float[][] one = gradients(TileMath.get(), 1, b, sq, sk, h, hkv, d, causal);
        float[][] two = gradients(TileMath.get(), 2, b, sq, sk, h, hkv, d, causal);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(one[i], two[i], "gradient " + i + " differs between 1 and 2 threads");
        }
    }

    private static TileMath[] twins() {
        return Simd.available() ? new TileMath[]{VectorTileMath.INSTANCE, ScalarTileMath.INSTANCE}
                : new TileMath[]{ScalarTileMath.INSTANCE};
    }

    private static float[][] gradients(TileMath math, int threads, int b, int sq, int sk, int h, int hkv, int d,
                                       boolean causal) {
        Random rnd = new Random(7);
        try (Backend backend = Backend.of(new CpuEngine(threads, math))) {
            DeviceTensor q = upload(backend, rnd, b, sq, h, d);
            DeviceTensor k = upload(backend, rnd, b, sk, hkv, d);
            DeviceTensor v = upload(backend, rnd, b, sk, hkv, d);
            DeviceTensor dO = upload(backend, rnd, b, sq, h, d);
            AttentionOptions options = AttentionOptions.builder().causal(causal).build();
            try (AttentionResult fwd = backend.attention().forward(new AttentionRequest(q, k, v, options));
                 AttentionGradients g = backend.attention().backward(
                         new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), options))) {
                return new float[][]{backend.tensors().download(g.dq()), backend.tensors().download(g.dk()),
                        backend.tensors().download(g.dv())};
            }
        }
    }

    private static void check(TileMath math, int threads, int b, int sq, int sk, int h, int hkv, int d, boolean causal) {
        Random rnd = new Random(31L * sq + sk + d);
        float[] qh = random(rnd, b * sq * h * d);
        float[] kh = random(rnd, b * sk * hkv * d);
        float[] vh = random(rnd, b * sk * hkv * d);
        float[] doh = random(rnd, b * sq * h * d);
        AttentionProblem problem = AttentionProblem.plain(new AttentionDims(b, sq, sk, h, hkv, d), doubles(qh),
                doubles(kh), doubles(vh), 1 / Math.sqrt(d), causal);
        AttentionOutputs ref = AttentionOracle.forward(problem, Precision.FP64);
        AttentionGrads grads = AttentionOracle.backward(problem, doubles(doh), Precision.FP64);
        try (Backend backend = Backend.of(new CpuEngine(threads, math))) {
            DeviceTensor q = backend.tensors().upload(qh, Shape.of(b, sq, h, d), DType.F32);
            DeviceTensor k = backend.tensors().upload(kh, Shape.of(b, sk, hkv, d), DType.F32);
            DeviceTensor v = backend.tensors().upload(vh, Shape.of(b, sk, hkv, d), DType.F32);
            DeviceTensor dO = backend.tensors().upload(doh, Shape.of(b, sq, h, d), DType.F32);
            AttentionOptions options = AttentionOptions.builder().causal(causal).build();
            try (AttentionResult fwd = backend.attention().forward(new AttentionRequest(q, k, v, options))) {
                String what = math.getClass().getSimpleName() + " threads=" + threads;
                assertClose(ref.o(), backend.tensors().download(fwd.o()), 2e-5, what + " o");
                float[] lse = backend.tensors().download(fwd.lse());
                for (int i = 0; i < lse.length; i++) {
                    if (Double.isInfinite(ref.lse()[i])) {
                        assertEquals(Float.NEGATIVE_INFINITY, lse[i], what + " lse[" + i + "] of an empty row");
                    } else {
                        assertEquals(ref.lse()[i], lse[i], 2e-5 * Math.max(1, Math.abs(ref.lse()[i])), what + " lse[" + i + "]");
                    }
                }
                try (AttentionGradients g = backend.attention().backward(
                        new AttentionBackwardRequest(dO, q, k, v, fwd.o(), fwd.lse(), options))) {
                    assertClose(grads.dq(), backend.tensors().download(g.dq()), 5e-5, what + " dq");
                    assertClose(grads.dk(), backend.tensors().download(g.dk()), 5e-5, what + " dk");
                    assertClose(grads.dv(), backend.tensors().download(g.dv()), 5e-5, what + " dv");
                }
            }
        }
    }

    private static DeviceTensor upload(Backend backend, Random rnd, int b, int s, int h, int d) {
        return backend.tensors().upload(random(rnd, b * s * h * d), Shape.of(b, s, h, d), DType.F32);
    }

    private static float[] random(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    /**
     * Relative to the larger of 1 and the reference's largest magnitude. The floor of 1 is the size of the
     * inputs (unit Gaussians): gradients such as dq at S = 1 are differences of O(1) terms that cancel
     * exactly in real arithmetic, so their fp32 error scales with the terms, not with the result.
     */
    private static void assertClose(double[] expected, float[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double scale = 1;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            if (!(err <= worst)) {
                worst = err;
                at = i;
            }
        }
        assertTrue(worst <= rel * scale, what + ": max error " + worst + " at " + at + " > " + rel * scale);
    }
}
