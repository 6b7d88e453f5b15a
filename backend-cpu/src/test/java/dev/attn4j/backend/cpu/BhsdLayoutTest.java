package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionLayout;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PyTorch's {@code [B, H, S, D]} layout on the cpu kernels: the same data in either layout gives bit-identical
 * outputs and gradients (the kernels only read rows through other strides, so even the summation order is the
 * same), on both twins, including edge tiles, GQA and masks.
 */
class BhsdLayoutTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                // b, sq, sk, h, hkv, d, causal
                Arguments.of(1, 5, 5, 2, 2, 16, false),
                Arguments.of(2, 70, 45, 4, 2, 40, true),     // D not a multiple of 16: V is packed, not read in place
                Arguments.of(1, 33, 150, 6, 1, 64, true),   // MQA, two key tiles
                Arguments.of(2, 100, 30, 4, 4, 24, true));  // Sq > Sk: empty rows
    }

    @ParameterizedTest(name = "B={0} Sq={1} Sk={2} H={3} Hkv={4} D={5} causal={6}")
    @MethodSource("cases")
    void bhsdGivesTheSameBitsAsBshd(int b, int sq, int sk, int h, int hkv, int d, boolean causal) {
        for (TileMath math : new TileMath[] {TileMath.get(), ScalarTileMath.INSTANCE}) {
            try (Backend backend = Backend.of(new CpuEngine(2, math))) {
                Random random = new Random(sq * 31L + sk);
                float[] q = gaussian(random, b * sq * h * d);
                float[] k = gaussian(random, b * sk * hkv * d);
                float[] v = gaussian(random, b * sk * hkv * d);
                float[] dO = gaussian(random, b * sq * h * d);
                float[][] bshd = run(backend, AttentionLayout.BSHD, q, k, v, dO, b, sq, sk, h, hkv, d, causal);
                float[][] bhsd = run(backend, AttentionLayout.BHSD, toBhsd(q, b, sq, h, d), toBhsd(k, b, sk, hkv, d),
                        toBhsd(v, b, sk, hkv, d), toBhsd(dO, b, sq, h, d), b, sq, sk, h, hkv, d, causal);
                assertArrayEquals(toBhsd(bshd[0], b, sq, h, d), bhsd[0], "o");
                assertArrayEquals(bshd[1], bhsd[1], "lse is [B, H, Sq] in both layouts");
                assertArrayEquals(toBhsd(bshd[2], b, sq, h, d), bhsd[2], "dq");
                assertArrayEquals(toBhsd(bshd[3], b, sk, hkv, d), bhsd[3], "dk");
                assertArrayEquals(toBhsd(bshd[4], b, sk, hkv, d), bhsd[4], "dv");
            }
        }
    }

    @org.junit.jupiter.api.Test
    void bhsdTensorsPassedAsTheDefaultLayoutAreToldWhichLayoutFits() {
        try (Backend backend = Backend.of(new CpuEngine(1))) {
            // PyTorch-shaped q [1, H=8, S=10, 16], k, v [1, Hkv=2, S=15, 16]: read as BSHD, H=10 is not a multiple of 15
            DeviceTensor q = backend.tensors().zeros(Shape.of(1, 8, 10, 16), DType.F32);
            DeviceTensor k = backend.tensors().zeros(Shape.of(1, 2, 15, 16), DType.F32);
            var e = assertThrows(InvalidRequestException.class, () -> new AttentionRequest(q, k, k, null));
            assertEquals("k", e.argument());
            assertTrue(e.getMessage().endsWith("(the shapes fit BHSD [B, H, S, D]: pass layout BHSD in AttentionOptions)"),
                    e.getMessage());
            var bhsd = AttentionOptions.builder().layout(AttentionLayout.BHSD).build();
            try (AttentionResult r = backend.attention().forward(new AttentionRequest(q, k, k, bhsd))) {
                assertEquals(Shape.of(1, 8, 10, 16), r.o().shape(), "o in the layout of q");
                assertEquals(Shape.of(1, 8, 10), r.lse().shape());
            }
        }
    }

    private static float[][] run(Backend backend, AttentionLayout layout, float[] q, float[] k, float[] v, float[] dO,
                                 int b, int sq, int sk, int h, int hkv, int d, boolean causal) {
        DeviceTensor tq = backend.tensors().upload(q, layout.shape(b, sq, h, d), DType.F32);
        DeviceTensor tk = backend.tensors().upload(k, layout.shape(b, sk, hkv, d), DType.F32);
        DeviceTensor tv = backend.tensors().upload(v, layout.shape(b, sk, hkv, d), DType.F32);
        DeviceTensor tdO = backend.tensors().upload(dO, layout.shape(b, sq, h, d), DType.F32);
        AttentionOptions options = AttentionOptions.builder().causal(causal).layout(layout).softcap(30)
                .window(causal ? 40 : -1, -1).build();
        try (AttentionResult r = backend.attention().forward(new AttentionRequest(tq, tk, tv, options));
             AttentionGradients g = r.backward(tdO)) {
            return new float[][] {backend.tensors().download(r.o()), backend.tensors().download(r.lse()),
                    backend.tensors().download(g.dq()), backend.tensors().download(g.dk()),
                    backend.tensors().download(g.dv())};
        }
    }

    /** {@code [B, S, H, D]} to {@code [B, H, S, D]}. */
    static float[] toBhsd(float[] x, int b, int s, int h, int d) {
        float[] out = new float[x.length];
        for (int bb = 0; bb < b; bb++) {
            for (int ss = 0; ss < s; ss++) {
                for (int hh = 0; hh < h; hh++) {
                    System.arraycopy(x, ((bb * s + ss) * h + hh) * d, out, ((bb * h + hh) * s + ss) * d, d);
                }
            }
        }
        return out;
    }

    private static float[] gaussian(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }
}
