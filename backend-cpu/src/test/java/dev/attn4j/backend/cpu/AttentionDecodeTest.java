package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
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

import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AttentionDecode}, the {@code Sq = 1} forward. Bottom-right alignment makes the one query row of a decode
 * call the last row of any longer call over the same keys, so the tiled forward ({@link AttentionForward}) run with
 * one more query row in front gives the reference for every score rule: the decode path must agree with it up to
 * the rounding of the split combination, for causal, windowed, ALiBi, softcapped and FlashMask calls, in both
 * layouts, on shapes with several key splits; and it must not depend on the thread count.
 */
class AttentionDecodeTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                // b, sk, h, hkv, d, rules
                Arguments.of(1, 1000, 8, 1, 64, "causal"),
                Arguments.of(2, 700, 8, 2, 40, "full"),
                Arguments.of(1, 2000, 4, 4, 128, "window"),
                Arguments.of(1, 1500, 6, 2, 64, "alibi"),
                Arguments.of(1, 900, 4, 1, 32, "softcap"),
                Arguments.of(1, 1200, 4, 2, 64, "flashmask"),
                Arguments.of(1, 1000, 2, 1, 64, "allmasked"),
                Arguments.of(2, 600, 4, 2, 48, "bhsd"));
    }

    @ParameterizedTest(name = "B={0} Sk={1} H={2} Hkv={3} D={4} {5}")
    @MethodSource("cases")
    void decodeIsTheLastRowOfTheTiledForward(int b, int sk, int h, int hkv, int d, String rules) {
        Random rnd = new Random(sk + 31L * d);
        boolean bhsd = rules.equals("bhsd");
        float[] q2 = random(rnd, b * 2 * h * d);
        float[] kh = random(rnd, b * sk * hkv * d);
        float[] vh = random(rnd, b * sk * hkv * d);
        // The decode query: row 1 of the two-row query, in the call's layout.
        float[] q1 = new float[b * h * d];
        for (int bb = 0; bb < b; bb++) {
            for (int hh = 0; hh < h; hh++) {
                int from = bhsd ? ((bb * h + hh) * 2 + 1) * d : ((bb * 2 + 1) * h + hh) * d;
                System.arraycopy(q2, from, q1, (bb * h + hh) * d, d);
            }
        }
        for (int threads : new int[] {1, 2}) {
            try (Backend backend = Backend.of(new CpuEngine(threads))) {
                Function<Integer, Shape> qShape = sq -> bhsd ? Shape.of(b, h, sq, d) : Shape.of(b, sq, h, d);
                Shape kvShape = bhsd ? Shape.of(b, hkv, sk, d) : Shape.of(b, sk, hkv, d);
                DeviceTensor k = backend.tensors().upload(kh, kvShape, DType.F32);
                DeviceTensor v = backend.tensors().upload(vh, kvShape, DType.F32);
                Function<Integer, AttentionOptions> options = sq -> options(backend, rules, b, h, sk, sq);
                float[] lastO;
                float[] lastLse;
                try (AttentionResult two = backend.attention().forward(new AttentionRequest(
                        backend.tensors().upload(q2, qShape.apply(2), DType.F32), k, v, options.apply(2)))) {
                    float[] o = backend.tensors().download(two.o());
                    float[] lse = backend.tensors().download(two.lse());
                    lastO = new float[b * h * d];
                    lastLse = new float[b * h];
                    for (int bb = 0; bb < b; bb++) {
                        for (int hh = 0; hh < h; hh++) {
                            int from = bhsd ? ((bb * h + hh) * 2 + 1) * d : ((bb * 2 + 1) * h + hh) * d;
                            System.arraycopy(o, from, lastO, (bb * h + hh) * d, d);
                            lastLse[bb * h + hh] = lse[(bb * h + hh) * 2 + 1];
                        }
                    }
                }
                try (AttentionResult one = backend.attention().forward(new AttentionRequest(
                        backend.tensors().upload(q1, qShape.apply(1), DType.F32), k, v, options.apply(1)))) {
                    float[] o = backend.tensors().download(one.o());
                    float[] lse = backend.tensors().download(one.lse());
                    String what = rules + " threads=" + threads;
                    if (rules.equals("allmasked")) {
                        assertTrue(Arrays.stream(box(lse)).allMatch(x -> x == Float.NEGATIVE_INFINITY), what + " lse");
                        assertArrayEquals(new float[o.length], o, what + " o of rows that see no key");
                        continue;
                    }
                    for (int i = 0; i < lse.length; i++) {
                        assertEquals(lastLse[i], lse[i], 2e-6 * Math.max(1, Math.abs(lastLse[i])), what + " lse[" + i + "]");
                    }
                    for (int i = 0; i < o.length; i++) {
                        assertEquals(lastO[i], o[i], 2e-6, what + " o[" + i + "]");
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "B={0} Sk={1} H={2} Hkv={3} D={4} {5}")
    @MethodSource("cases")
    void decodeIsBitIdenticalAcrossThreadCounts(int b, int sk, int h, int hkv, int d, String rules) {
        Random rnd = new Random(3);
        boolean bhsd = rules.equals("bhsd");
        float[] qh = random(rnd, b * h * d);
        float[] kh = random(rnd, b * sk * hkv * d);
        float[] vh = random(rnd, b * sk * hkv * d);
        float[][] first = null;
        for (int threads : new int[] {1, 2, 3}) {
            try (Backend backend = Backend.of(new CpuEngine(threads))) {
                Shape kvShape = bhsd ? Shape.of(b, hkv, sk, d) : Shape.of(b, sk, hkv, d);
                DeviceTensor q = backend.tensors().upload(qh, bhsd ? Shape.of(b, h, 1, d) : Shape.of(b, 1, h, d), DType.F32);
                DeviceTensor k = backend.tensors().upload(kh, kvShape, DType.F32);
                DeviceTensor v = backend.tensors().upload(vh, kvShape, DType.F32);
                try (AttentionResult r = backend.attention().forward(
                        new AttentionRequest(q, k, v, options(backend, rules, b, h, sk, 1)))) {
                    float[][] got = {backend.tensors().download(r.o()), backend.tensors().download(r.lse())};
                    if (first == null) {
                        first = got;
                    } else {
                        assertArrayEquals(first[0], got[0], "o with " + threads + " threads");
                        assertArrayEquals(first[1], got[1], "lse with " + threads + " threads");
                    }
                }
            }
        }
    }

    private static AttentionOptions options(Backend backend, String rules, int b, int h, int sk, int sq) {
        AttentionOptions.Builder o = AttentionOptions.builder();
        switch (rules) {
            case "causal" -> o.causal(true);
            case "window" -> o.causal(true).window(1000, -1);
            case "alibi" -> {
                float[] slopes = new float[h];
                for (int i = 0; i < h; i++) {
                    slopes[i] = (float) Math.pow(2, -(i + 1));
                }
                o.causal(true).alibiSlopes(backend.tensors().upload(slopes, Shape.of(h), DType.F32));
            }
            case "softcap" -> o.causal(true).softcap(5.0);
            case "flashmask", "allmasked" -> {
                // Causal FlashMask [LTS]: column j is masked from row LTS on. The decode row is the last row (row
                // Sq − 1), so the middle third of the keys (for "allmasked", every key) is masked from row Sq − 1 on;
                // the other columns get LTS = Sq, masked nowhere.
                int[] lts = new int[b * sk];
                for (int i = 0; i < lts.length; i++) {
                    int j = i % sk;
                    boolean masked = rules.equals("allmasked") || (j >= sk / 3 && j < 2 * sk / 3);
                    lts[i] = masked ? sq - 1 : sq;
                }
                o.causal(true).flashMask(backend.tensors().uploadInts(lts, Shape.of(b, 1, sk, 1)));
            }
            case "bhsd" -> o.causal(true).layout(AttentionLayout.BHSD);
            default -> { }
        }
        return o.build();
    }

    private static Float[] box(float[] x) {
        Float[] out = new Float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    private static float[] random(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }
}
