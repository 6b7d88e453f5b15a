package dev.attn4j.conformance.hostile;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The repros of issue 13 items 1, 2, 4 and 7, run on every available backend. */
class Issue13RegressionTest {

    @TestFactory
    Stream<DynamicTest> everyAvailableBackend() {
        BackendSelector selector = Backends.selector();
        return Backends.available(selector).stream().flatMap(name -> Stream.of(
                DynamicTest.dynamicTest(name + ": a shape whose count overflows never reaches a kernel", () -> {
                    try (Backend b = selector.open(name, BackendOptions.none())) {
                        // Issue 13 item 1: the count wrapped round to 1; opencl then segfaulted in POCL.
                        InvalidRequestException e = assertThrowsExactly(InvalidRequestException.class,
                                () -> b.tensors().upload(new float[1], Shape.of(7623851, 3935371, 1229673, 1), DType.F32));
                        assertEquals("shape", e.argument());
                        InvalidRequestException big = assertThrowsExactly(InvalidRequestException.class,
                                () -> b.tensors().upload(new float[1], Shape.of(65536, 65536, 1, 1), DType.F32));
                        // refused for its size (over Integer.MAX_VALUE elements) before its data is looked at
                        assertEquals("shape", big.argument());
                    }
                }),
                DynamicTest.dynamicTest(name + ": windows of Integer.MAX_VALUE are unbounded", () -> {
                    try (Backend b = selector.open(name, BackendOptions.none())) {
                        // Issue 13 item 2: (MAX, -1) with Sq > Sk (cpu) and (-1, MAX) (opencl) gave empty rows.
                        for (int[] lengths : new int[][] {{40, 9}, {9, 40}, {33, 33}}) {
                            for (int[] window : new int[][] {{Integer.MAX_VALUE, -1}, {-1, Integer.MAX_VALUE},
                                    {Integer.MAX_VALUE, Integer.MAX_VALUE}, {Integer.MAX_VALUE - 1, Integer.MAX_VALUE - 1}}) {
                                for (boolean causal : new boolean[] {false, true}) {
                                    float[][] huge = attention(b, lengths[0], lengths[1], AttentionOptions.builder()
                                            .causal(causal).window(window[0], window[1]).build());
                                    float[][] none = attention(b, lengths[0], lengths[1], AttentionOptions.builder()
                                            .causal(causal).build());
                                    String what = name + " Sq=" + lengths[0] + " Sk=" + lengths[1] + " window=("
                                            + window[0] + ", " + window[1] + ") causal=" + causal;
                                    assertArrayEquals(none[0], huge[0], what + ": o");
                                    assertArrayEquals(none[1], huge[1], what + ": lse");
                                }
                            }
                        }
                    }
                }),
                DynamicTest.dynamicTest(name + ": norm backward checks the saved sum's dtype", () -> {
                    try (Backend b = selector.open(name, BackendOptions.none())) {
                        // Issue 13 item 4: cpu threw ClassCastException, opencl read a 2-byte buffer as F32.
                        Shape xs = Shape.of(3, 8);
                        DeviceTensor x = b.tensors().upload(new float[24], xs, DType.F32);
                        DeviceTensor r = b.tensors().upload(new float[24], xs, DType.F32);
                        DeviceTensor gamma = b.tensors().upload(new float[8], Shape.of(8), DType.F32);
                        NormRequest req = NormRequest.rmsNorm(x, gamma, 1e-6).withResidual(r, 1.0);
                        try (NormResult fwd = b.normalization().forward(req)) {
                            // F16 where the backend stores it (the issue's case), else I32: any other dtype is refused.
                            DType other = b.capabilities().port(dev.attn4j.ports.tensor.TensorCapabilities.class)
                                    .map(t -> t.dtypes().contains(DType.F16)).orElse(false) ? DType.F16 : DType.I32;
                            DeviceTensor wrong = b.tensors().zeros(xs, other);
                            NormResult saved = new NormResult(fwd.y(), fwd.mean(), fwd.rstd(), wrong);
                            InvalidRequestException e = assertThrowsExactly(InvalidRequestException.class,
                                    () -> b.normalization().backward(new NormBackwardRequest(req, saved, x, null)));
                            assertEquals("saved.sum", e.argument());
                        }
                    }
                }),
                DynamicTest.dynamicTest(name + ": scalars are checked as the floats kernels use", () -> {
                    try (Backend b = selector.open(name, BackendOptions.none())) {
                        // Issue 13 item 7: softcap 1e-300 was silently off, 1e39 made every output NaN.
                        for (double bad : new double[] {1e-300, 1e39}) {
                            assertThrowsExactly(InvalidRequestException.class,
                                    () -> AttentionOptions.builder().softcap(bad).build());
                            assertThrowsExactly(InvalidRequestException.class,
                                    () -> AttentionOptions.builder().scale(bad).build());
                        }
                        DeviceTensor x = b.tensors().upload(new float[8], Shape.of(1, 8), DType.F32);
                        DeviceTensor gamma = b.tensors().upload(new float[8], Shape.of(8), DType.F32);
                        assertThrowsExactly(InvalidRequestException.class, () -> NormRequest.rmsNorm(x, gamma, 1e-300));
                        assertTrue(b.tensors().download(x).length == 8);
                    }
                })));
    }

    private static float[][] attention(Backend b, int sq, int sk, AttentionOptions options) {
        Random rnd = new Random(sq * 100 + sk);
        Shape qs = Shape.of(1, sq, 2, 16);
        Shape ks = Shape.of(1, sk, 2, 16);
        try (DeviceTensor q = b.tensors().upload(random(rnd, 1 * sq * 2 * 16), qs, DType.F32);
             DeviceTensor k = b.tensors().upload(random(rnd, 1 * sk * 2 * 16), ks, DType.F32);
             DeviceTensor v = b.tensors().upload(random(rnd, 1 * sk * 2 * 16), ks, DType.F32);
             AttentionResult r = b.attention().forward(new AttentionRequest(q, k, v, options))) {
            return new float[][] {b.tensors().download(r.o()), b.tensors().download(r.lse())};
        }
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
