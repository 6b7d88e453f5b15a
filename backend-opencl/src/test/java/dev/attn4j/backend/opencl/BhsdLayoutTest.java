package dev.attn4j.backend.opencl;

import dev.attn4j.ports.Backend;
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

/**
 * {@code attention.cl} built with {@code -DBHSD=1}: the same data in PyTorch's {@code [B, H, S, D]} layout gives
 * the bits of the default layout (only addresses change), forward, every backward pass and the table gradient.
 */
class BhsdLayoutTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                // b, sq, sk, h, hkv, d, causal
                Arguments.of(1, 5, 7, 2, 2, 16, false),
                Arguments.of(2, 70, 45, 4, 2, 12, true),
                Arguments.of(1, 33, 90, 6, 1, 5, true));    // D = 5: the scalar (VW = 1) path
    }

    @ParameterizedTest(name = "B={0} Sq={1} Sk={2} H={3} Hkv={4} D={5} causal={6}")
    @MethodSource("cases")
    void bhsdGivesTheSameBitsAsBshd(int b, int sq, int sk, int h, int hkv, int d, boolean causal) {
        try (Backend backend = OpenClTesting.openBackend()) {
            Random random = new Random(sq * 31L + sk);
            float[] q = OpenClTesting.f32(OpenClTesting.random(random, b * sq * h * d, 1));
            float[] k = OpenClTesting.f32(OpenClTesting.random(random, b * sk * hkv * d, 1));
            float[] v = OpenClTesting.f32(OpenClTesting.random(random, b * sk * hkv * d, 1));
            float[] dO = OpenClTesting.f32(OpenClTesting.random(random, b * sq * h * d, 1));
            float[] table = OpenClTesting.f32(OpenClTesting.random(random, h * (sq + sk - 1), 0.5));
            float[][] bshd = run(backend, AttentionLayout.BSHD, q, k, v, dO, table, b, sq, sk, h, hkv, d, causal);
            float[][] bhsd = run(backend, AttentionLayout.BHSD, toBhsd(q, b, sq, h, d), toBhsd(k, b, sk, hkv, d),
                    toBhsd(v, b, sk, hkv, d), toBhsd(dO, b, sq, h, d), table, b, sq, sk, h, hkv, d, causal);
            assertArrayEquals(toBhsd(bshd[0], b, sq, h, d), bhsd[0], "o");
            assertArrayEquals(bshd[1], bhsd[1], "lse");
            assertArrayEquals(toBhsd(bshd[2], b, sq, h, d), bhsd[2], "dq");
            assertArrayEquals(toBhsd(bshd[3], b, sk, hkv, d), bhsd[3], "dk");
            assertArrayEquals(toBhsd(bshd[4], b, sk, hkv, d), bhsd[4], "dv");
            assertArrayEquals(bshd[5], bhsd[5], "dBiasTable");
        }
    }

    private static float[][] run(Backend backend, AttentionLayout layout, float[] q, float[] k, float[] v, float[] dO,
                                 float[] table, int b, int sq, int sk, int h, int hkv, int d, boolean causal) {
        DeviceTensor tq = backend.tensors().upload(q, layout.shape(b, sq, h, d), DType.F32);
        DeviceTensor tk = backend.tensors().upload(k, layout.shape(b, sk, hkv, d), DType.F32);
        DeviceTensor tv = backend.tensors().upload(v, layout.shape(b, sk, hkv, d), DType.F32);
        DeviceTensor tdO = backend.tensors().upload(dO, layout.shape(b, sq, h, d), DType.F32);
        DeviceTensor tt = backend.tensors().upload(table, Shape.of(h, sq + sk - 1), DType.F32);
        AttentionOptions options = AttentionOptions.builder().causal(causal).layout(layout).biasTable(tt).build();
        try (AttentionResult r = backend.attention().forward(new AttentionRequest(tq, tk, tv, options));
             AttentionGradients g = r.backward(tdO, true, true)) {
            return new float[][] {backend.tensors().download(r.o()), backend.tensors().download(r.lse()),
                    backend.tensors().download(g.dq()), backend.tensors().download(g.dk()),
                    backend.tensors().download(g.dv()), backend.tensors().download(g.dBiasTable())};
        }
    }

    /** {@code [B, S, H, D]} to {@code [B, H, S, D]}. */
    private static float[] toBhsd(float[] x, int b, int s, int h, int d) {
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
}
