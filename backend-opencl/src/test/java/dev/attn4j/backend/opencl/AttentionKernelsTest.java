package dev.attn4j.backend.opencl;

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
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static dev.attn4j.backend.opencl.OpenClTesting.assertClose;
import static dev.attn4j.backend.opencl.OpenClTesting.f32;
import static dev.attn4j.backend.opencl.OpenClTesting.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Attention forward and backward on OpenCL against the float64 oracle ({@link AttentionOracle}), by the pass rule. */
class AttentionKernelsTest {
    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = OpenClTesting.openBackend();
    }

    @AfterAll
    static void close() {
        if (backend != null) backend.close();
    }

    static AttentionSpec plain(int b, int sq, int sk, int h, int hkv, int d, boolean causal) {
        return new AttentionSpec(b, sq, sk, h, hkv, d, causal, -1, -1, 0, null, false, null);
    }

    /** Shapes: S = 1, odd sizes that are no tile multiple, every D, GQA 1/2/4 and MQA, Sq != Sk both ways. */
    static Stream<AttentionSpec> shapes() {
        return Stream.of(
                plain(1, 1, 1, 1, 1, 16, false),
                plain(1, 1, 1, 1, 1, 16, true),
                plain(1, 1, 9, 2, 1, 16, true),
                plain(2, 13, 29, 4, 2, 40, false),
                plain(2, 13, 29, 4, 2, 40, true),
                plain(1, 29, 13, 4, 1, 64, true),    // Sq > Sk causal: the first 16 rows see no key
                plain(1, 29, 13, 4, 4, 64, false),
                plain(1, 37, 37, 2, 2, 128, true),
                plain(2, 33, 65, 8, 2, 64, true),    // GQA 4
                plain(1, 70, 45, 4, 1, 16, false),   // MQA, more than two query tiles
                plain(1, 3, 100, 2, 1, 40, true));
    }

    /** Sliding window, softcap, ALiBi (per head, per batch) and the relative table, alone and together. */
    static Stream<AttentionSpec> features() {
        Random rnd = new Random(7);
        List<AttentionSpec> p = new ArrayList<>();
        p.add(new AttentionSpec(1, 41, 41, 2, 1, 16, false, 5, 3, 0, null, false, null));
        p.add(new AttentionSpec(1, 41, 50, 2, 2, 40, true, 12, -1, 0, null, false, null));
        p.add(new AttentionSpec(1, 50, 41, 2, 2, 16, false, -1, 0, 0, null, false, null));
        p.add(new AttentionSpec(1, 35, 35, 2, 1, 64, false, 0, 0, 0, null, false, null));   // diagonal only
        p.add(new AttentionSpec(2, 19, 33, 4, 2, 16, true, -1, -1, 0.7, null, false, null));  // softcap saturates
        p.add(new AttentionSpec(1, 33, 33, 4, 4, 40, true, -1, -1, 0, new double[] {0.5, 0.25, 0.0, 0.0625},
                false, null));
        p.add(new AttentionSpec(2, 21, 34, 2, 1, 16, false, -1, -1, 0, new double[] {0.3, 0.0, 0.1, 0.7},
                true, null));
        p.add(new AttentionSpec(2, 23, 31, 3, 3, 16, false, -1, -1, 0, null, false,
                random(rnd, 3 * (23 + 31 - 1), 2)));
        p.add(new AttentionSpec(1, 40, 40, 2, 1, 64, true, 9, -1, 5.0, new double[] {0.125, 0.5}, false,
                random(rnd, 2 * 79, 1)));
        // Dense mask (some rows fully masked) and dense bias, broadcast both ways.
        p.add(plain(2, 17, 23, 2, 1, 16, false).with(AttentionSpec.Extras.NONE.withMask(mask(rnd, 1, 1, 17, 23), 1, 1)));
        p.add(plain(2, 17, 23, 2, 2, 40, true).with(AttentionSpec.Extras.NONE.withMask(mask(rnd, 2, 2, 17, 23), 2, 2)
                .withBias(random(rnd, 2 * 17 * 23, 2), 2, 1)));
        p.add(plain(1, 33, 30, 4, 2, 16, false).with(AttentionSpec.Extras.NONE.withBias(random(rnd, 4 * 33 * 30, 3), 1, 4)));
        // FlashMask: every form, mask heads shared by query heads, values above Sq.
        p.add(plain(2, 37, 37, 4, 2, 16, true).with(AttentionSpec.Extras.NONE.withFlash(flash(rnd, 2, 2, 37, 1, 37), 2, 1)));
        p.add(plain(1, 29, 41, 2, 1, 40, true).with(AttentionSpec.Extras.NONE.withFlash(flash(rnd, 1, 2, 41, 2, 29), 2, 2)));
        p.add(plain(2, 35, 35, 2, 2, 16, false).with(AttentionSpec.Extras.NONE.withFlash(flash(rnd, 2, 1, 35, 2, 35), 1, 2)));
        p.add(plain(1, 40, 33, 4, 4, 64, false).with(AttentionSpec.Extras.NONE.withFlash(flash(rnd, 1, 4, 33, 4, 40), 4, 4)));
        // Document masks: whole 64 x 64 tiles are masked and skipped.
        p.add(plain(1, 150, 150, 2, 1, 16, true).with(AttentionSpec.Extras.NONE.withFlash(documents(1, 150, 70, 140), 1, 1)));
        p.add(plain(1, 150, 150, 2, 2, 16, false).with(AttentionSpec.Extras.NONE.withFlash(bidirectional(150, 65), 1, 2)));
        p.add(plain(1, 140, 140, 2, 1, 16, false).with(AttentionSpec.Extras.NONE.withFlash(twoBands(140), 1, 4)));
        // Dropout, alone and with GQA, causal and a bias.
        p.add(plain(1, 23, 31, 2, 2, 16, false).with(AttentionSpec.Extras.NONE.withDropout(0.2, 42L, 0L)));
        p.add(new AttentionSpec(2, 31, 31, 4, 1, 40, true, -1, -1, 0, new double[] {0.5, 0.25, 0.125, 0.0625},
                false, null).with(AttentionSpec.Extras.NONE.withDropout(0.5, 0x1234_5678_9ABCL, 7L << 33)));
        return p.stream();
    }

    static boolean[] mask(Random rnd, int b, int h, int sq, int sk) {
        boolean[] m = new boolean[b * h * sq * sk];
        for (int i = 0; i < m.length; i++) m[i] = rnd.nextDouble() < 0.7;
        for (int j = 0; j < sk; j++) m[3 * sk + j] = false;   // row 3 of the first plane sees nothing
        return m;
    }

    /** Random FlashMask row indices [B, Hm, Sk, n], some above Sq; start <= end within each pair. */
    static int[] flash(Random rnd, int b, int hm, int sk, int n, int sq) {
        int[] f = new int[b * hm * sk * n];
        for (int c = 0; c < b * hm * sk; c++) {
            int[] v = new int[n];
            for (int t = 0; t < n; t++) v[t] = rnd.nextInt(sq + 4);
            java.util.Arrays.sort(v);
            System.arraycopy(v, 0, f, c * n, n);
        }
        return f;
    }

    /** Causal n = 1 document mask: column j's document ends at the first boundary after j. */
    static int[] documents(int b, int s, int... ends) {
        int[] f = new int[b * s];
        for (int j = 0; j < s; j++) {
            int end = s;
            for (int e : ends) {
                if (j < e) {
                    end = e;
                    break;
                }
            }
            f[j] = end;
        }
        return f;
    }

    /** Non-causal n = 2 [LTS, UTE]: two bidirectional documents split at {@code cut}. */
    static int[] bidirectional(int s, int cut) {
        int[] f = new int[s * 2];
        for (int j = 0; j < s; j++) {
            f[2 * j] = j < cut ? cut : s;
            f[2 * j + 1] = j < cut ? 0 : cut;
        }
        return f;
    }

    /** Non-causal n = 4: rows [0, 70) masked for the first half of the columns, [70, 140) for the rest. */
    static int[] twoBands(int s) {
        int[] f = new int[s * 4];
        for (int j = 0; j < s; j++) {
            boolean left = j < s / 2;
            f[4 * j] = left ? 0 : s / 2;
            f[4 * j + 1] = left ? s / 2 : s;
            f[4 * j + 2] = s;
            f[4 * j + 3] = s;
        }
        return f;
    }

    static Stream<AttentionSpec> all() {
        return Stream.concat(shapes(), features());
    }

    @ParameterizedTest
    @MethodSource("all")
    void forwardMatchesTheOracle(AttentionSpec p) {
        Random rnd = new Random(p.seed());
        double[] q = random(rnd, p.b() * p.sq() * p.h() * p.d(), 1.5);
        double[] k = random(rnd, p.b() * p.sk() * p.hkv() * p.d(), 1.5);
        double[] v = random(rnd, p.b() * p.sk() * p.hkv() * p.d(), 1);
        AttentionProblem problem = p.problem(q, k, v);
        AttentionOutputs gold = AttentionOracle.forward(problem, Precision.FP64);
        AttentionOutputs ref = AttentionOracle.forward(problem, Precision.FP32);
        try (Inputs in = new Inputs(p, q, k, v);
             AttentionResult r = backend.attention().forward(new AttentionRequest(in.q, in.k, in.v, in.options))) {
            assertClose("o", gold.o(), ref.o(), backend.tensors().download(r.o()));
            assertClose("lse", gold.lse(), ref.lse(), backend.tensors().download(r.lse()));
        }
    }

    @ParameterizedTest
    @MethodSource("all")
    void backwardMatchesTheOracle(AttentionSpec p) {
        Random rnd = new Random(p.seed() + 1);
        double[] q = random(rnd, p.b() * p.sq() * p.h() * p.d(), 1.5);
        double[] k = random(rnd, p.b() * p.sk() * p.hkv() * p.d(), 1.5);
        double[] v = random(rnd, p.b() * p.sk() * p.hkv() * p.d(), 1);
        double[] dout = random(rnd, q.length, 1);
        AttentionProblem problem = p.problem(q, k, v);
        AttentionGrads gold = AttentionOracle.backward(problem, dout, Precision.FP64);
        AttentionGrads ref = AttentionOracle.backward(problem, dout, Precision.FP32);
        try (Inputs in = new Inputs(p, q, k, v);
             DeviceTensor dO = backend.tensors().upload(f32(dout), Shape.of(p.b(), p.sq(), p.h(), p.d()), DType.F32);
             AttentionResult f = backend.attention().forward(new AttentionRequest(in.q, in.k, in.v, in.options));
             AttentionGradients g = backend.attention().backward(new AttentionBackwardRequest(dO, in.q, in.k, in.v,
                     f.o(), f.lse(), in.options.toBuilder().biasTableGrad(p.table() != null).build()))) {
            assertClose("dq", gold.dq(), ref.dq(), backend.tensors().download(g.dq()));
            assertClose("dk", gold.dk(), ref.dk(), backend.tensors().download(g.dk()));
            assertClose("dv", gold.dv(), ref.dv(), backend.tensors().download(g.dv()));
            if (p.table() != null) {
                assertClose("dBiasTable", gold.dBiasTable(), ref.dBiasTable(), backend.tensors().download(g.dBiasTable()));
            }
        }
    }

    @Test
    void rowsThatSeeNoKeyGiveZeroOutputMinusInfinityLseAndZeroGradient() {
        AttentionSpec p = plain(1, 20, 6, 2, 1, 16, true);   // rows 0..13 see no key
        Random rnd = new Random(3);
        double[] q = random(rnd, 20 * 2 * 16, 1);
        double[] k = random(rnd, 6 * 16, 1);
        double[] v = random(rnd, 6 * 16, 1);
        try (Inputs in = new Inputs(p, q, k, v);
             DeviceTensor dO = backend.tensors().upload(f32(random(rnd, q.length, 1)), Shape.of(1, 20, 2, 16), DType.F32);
             AttentionResult f = backend.attention().forward(new AttentionRequest(in.q, in.k, in.v, in.options));
             AttentionGradients g = backend.attention().backward(
                     new AttentionBackwardRequest(dO, in.q, in.k, in.v, f.o(), f.lse(), in.options))) {
            float[] o = backend.tensors().download(f.o());
            float[] lse = backend.tensors().download(f.lse());
            float[] dq = backend.tensors().download(g.dq());
            for (int i = 0; i < 14; i++) {
                for (int h = 0; h < 2; h++) {
                    assertEquals(Float.NEGATIVE_INFINITY, lse[h * 20 + i], "lse row " + i);
                    for (int x = 0; x < 16; x++) {
                        assertEquals(0f, o[(i * 2 + h) * 16 + x], "o row " + i);
                        assertEquals(0f, dq[(i * 2 + h) * 16 + x], "dq row " + i);
                    }
                }
            }
        }
    }

    /**
     * With one key every probability is 1, so dS = P·(dP − rowsum(dO∘O)) is 0 exactly: only if the backward
     * sums dO·v and dO·o in the same order (and recomputes the forward's scores bit for bit).
     */
    @Test
    void aSingleKeyGivesExactlyZeroScoreGradients() {
        AttentionSpec p = plain(2, 7, 1, 4, 2, 128, false);
        Random rnd = new Random(5);
        double[] q = random(rnd, 2 * 7 * 4 * 128, 2);
        double[] k = random(rnd, 2 * 2 * 128, 2);
        double[] v = random(rnd, 2 * 2 * 128, 2);
        try (Inputs in = new Inputs(p, q, k, v);
             DeviceTensor dO = backend.tensors().upload(f32(random(rnd, q.length, 1)), Shape.of(2, 7, 4, 128), DType.F32);
             AttentionResult f = backend.attention().forward(new AttentionRequest(in.q, in.k, in.v, in.options));
             AttentionGradients g = backend.attention().backward(
                     new AttentionBackwardRequest(dO, in.q, in.k, in.v, f.o(), f.lse(), in.options))) {
            assertArrayEquals(new float[q.length], backend.tensors().download(g.dq()));
            assertArrayEquals(new float[k.length], backend.tensors().download(g.dk()));
        }
    }

    @Test
    void backwardIsBitIdenticalRunToRun() {
        AttentionSpec p = plain(2, 45, 45, 4, 2, 40, true);
        Random rnd = new Random(11);
        double[] q = random(rnd, 2 * 45 * 4 * 40, 1);
        double[] k = random(rnd, 2 * 45 * 2 * 40, 1);
        double[] v = random(rnd, 2 * 45 * 2 * 40, 1);
        try (Inputs in = new Inputs(p, q, k, v);
             DeviceTensor dO = backend.tensors().upload(f32(random(rnd, q.length, 1)), Shape.of(2, 45, 4, 40), DType.F32);
             AttentionResult f = backend.attention().forward(new AttentionRequest(in.q, in.k, in.v, in.options))) {
            AttentionOptions det = in.options.toBuilder().deterministic(true).build();
            float[][] first = grads(new AttentionBackwardRequest(dO, in.q, in.k, in.v, f.o(), f.lse(), det));
            float[][] second = grads(new AttentionBackwardRequest(dO, in.q, in.k, in.v, f.o(), f.lse(), det));
            for (int t = 0; t < 3; t++) {
                assertArrayEquals(first[t], second[t], "gradient " + t);
            }
        }
    }

    private static float[][] grads(AttentionBackwardRequest request) {
        try (AttentionGradients g = backend.attention().backward(request)) {
            return new float[][] {backend.tensors().download(g.dq()), backend.tensors().download(g.dk()),
                    backend.tensors().download(g.dv())};
        }
    }

    /** The device tensors of one case. */
    private static final class Inputs implements AutoCloseable {
        final DeviceTensor q, k, v, alibi, table, mask, bias, flash;
        final AttentionOptions options;

        Inputs(AttentionSpec p, double[] q, double[] k, double[] v) {
            this.q = backend.tensors().upload(f32(q), Shape.of(p.b(), p.sq(), p.h(), p.d()), DType.F32);
            this.k = backend.tensors().upload(f32(k), Shape.of(p.b(), p.sk(), p.hkv(), p.d()), DType.F32);
            this.v = backend.tensors().upload(f32(v), Shape.of(p.b(), p.sk(), p.hkv(), p.d()), DType.F32);
            this.alibi = p.alibi() == null ? null : backend.tensors().upload(f32(p.alibi()),
                    p.alibiPerBatch() ? Shape.of(p.b(), p.h()) : Shape.of(p.h()), DType.F32);
            this.table = p.table() == null ? null
                    : backend.tensors().upload(f32(p.table()), Shape.of(p.h(), p.sq() + p.sk() - 1), DType.F32);
            AttentionSpec.Extras x = p.x();
            this.mask = x.mask() == null ? null
                    : backend.tensors().uploadBools(x.mask(), Shape.of(x.maskB(), x.maskH(), p.sq(), p.sk()));
            this.bias = x.bias() == null ? null
                    : backend.tensors().upload(f32(x.bias()), Shape.of(x.biasB(), x.biasH(), p.sq(), p.sk()), DType.F32);
            this.flash = x.flash() == null ? null
                    : backend.tensors().uploadInts(x.flash(), Shape.of(p.b(), x.flashHeads(), p.sk(), x.flashN()));
            this.options = AttentionOptions.builder().causal(p.causal()).window(p.winLeft(), p.winRight())
                    .softcap(p.softcap()).alibiSlopes(alibi).biasTable(table).denseMask(mask).denseBias(bias)
                    .flashMask(flash).dropout(new Dropout(x.dropP(), x.seed(), x.offset())).build();
        }

        @Override
        public void close() {
            q.close();
            k.close();
            v.close();
            if (alibi != null) alibi.close();
            if (table != null) table.close();
            if (mask != null) mask.close();
            if (bias != null) bias.close();
            if (flash != null) flash.close();
        }
    }
}
