package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every pre-existing kernel (attention, normalisation, rotary, the 16-bit conversions around them) run twice: on
 * plain tensors, and on the same values as views at a nonzero offset inside NaN-filled bases ({@link Views}).
 * The results must be equal bit for bit; a kernel that ignores a view's offset reads NaN or junk and fails.
 */
class ViewOffsetKernelsTest {
    private Backend backend;

    @BeforeEach
    void open() {
        backend = Backend.of(new CpuEngine(2));
    }

    @AfterEach
    void close() {
        backend.close();
    }

    private DeviceTensor upload(SplittableRandom rnd, Shape shape, DType dtype) {
        float[] x = new float[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return backend.tensors().upload(x, shape, dtype);
    }

    private DeviceTensor view(DeviceTensor t) {
        return Views.of(backend, t);
    }

    private List<float[]> down(DeviceTensor... ts) {
        List<float[]> all = new ArrayList<>();
        for (DeviceTensor t : ts) {
            all.add(t == null ? null : backend.tensors().download(t));
        }
        return all;
    }

    private static void assertBitIdentical(List<float[]> plain, List<float[]> viewed, String what) {
        assertEquals(plain.size(), viewed.size());
        for (int i = 0; i < plain.size(); i++) {
            assertArrayEquals(plain.get(i), viewed.get(i), what + ", output " + i);
        }
    }

    @ParameterizedTest(name = "causal FlashMask + ALiBi + dense bias = {0}")
    @ValueSource(booleans = {true, false})
    void attentionOnViewsIsBitIdentical(boolean causalMasks) {
        SplittableRandom rnd = new SplittableRandom(3);
        int b = 2, sq = 70, sk = 75, h = 4, hkv = 2, d = 40;
        DeviceTensor q = upload(rnd, Shape.of(b, sq, h, d), DType.F32);
        DeviceTensor k = upload(rnd, Shape.of(b, sk, hkv, d), DType.F32);
        DeviceTensor v = upload(rnd, Shape.of(b, sk, hkv, d), DType.F32);
        DeviceTensor dO = upload(rnd, Shape.of(b, sq, h, d), DType.F32);
        AttentionOptions.Builder options = AttentionOptions.builder();
        if (causalMasks) {
            int[] rows = new int[b * sk * 2];
            for (int i = 0; i < rows.length; i += 2) {
                rows[i] = 20 + (i * 7) % 50;          // LTS
                rows[i + 1] = rows[i] + 5 + i % 9;    // LTE
            }
            options.causal(true)
                    .flashMask(backend.tensors().uploadInts(rows, Shape.of(b, 1, sk, 2)))
                    .alibiSlopes(backend.tensors().upload(new float[] {0.5f, 0.25f, 0.125f, 0.0625f}, Shape.of(h), DType.F32))
                    .denseBias(upload(rnd, Shape.of(1, h, sq, sk), DType.F32));
        } else {
            boolean[] keep = new boolean[b * sq * sk];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = (i * 31) % 7 != 0;
            }
            options.softcap(5.0)
                    .biasTable(upload(rnd, Shape.of(h, sq + sk - 1), DType.F32))
                    .denseMask(backend.tensors().uploadBools(keep, Shape.of(b, 1, sq, sk)))
                    .dropout(new Dropout(0.2, 11L, 5L));
        }
        AttentionOptions plain = options.build();
        AttentionOptions viewed = plain.toBuilder()
                .alibiSlopes(view(plain.alibiSlopes())).biasTable(view(plain.biasTable()))
                .denseBias(view(plain.denseBias())).flashMask(view(plain.flashMask()))
                .denseMask(view(plain.denseMask())).build();
        // The backward also asks for the bias table's gradient when there is a table.
        AttentionOptions plainBack = plain.toBuilder().biasTableGrad(plain.biasTable() != null).build();
        AttentionOptions viewedBack = viewed.toBuilder().biasTableGrad(viewed.biasTable() != null).build();

        try (AttentionResult f1 = backend.attention().forward(new AttentionRequest(q, k, v, plain));
             AttentionResult f2 = backend.attention().forward(new AttentionRequest(view(q), view(k), view(v), viewed))) {
            assertBitIdentical(down(f1.o(), f1.lse()), down(f2.o(), f2.lse()), "forward");
            try (AttentionGradients g1 = backend.attention().backward(
                    new AttentionBackwardRequest(dO, q, k, v, f1.o(), f1.lse(), plainBack));
                 AttentionGradients g2 = backend.attention().backward(new AttentionBackwardRequest(view(dO), view(q),
                         view(k), view(v), view(f1.o()), view(f1.lse()), viewedBack))) {
                assertBitIdentical(down(g1.dq(), g1.dk(), g1.dv(), g1.dBiasTable()),
                        down(g2.dq(), g2.dk(), g2.dv(), g2.dBiasTable()), "backward");
            }
        }
    }

    @Test
    void attentionInTheBhsdLayoutOnViews() {
        SplittableRandom rnd = new SplittableRandom(8);
        DeviceTensor q = upload(rnd, Shape.of(2, 4, 45, 24), DType.F32);   // [B, H, S, D]
        DeviceTensor k = upload(rnd, Shape.of(2, 2, 45, 24), DType.F32);
        DeviceTensor v = upload(rnd, Shape.of(2, 2, 45, 24), DType.F32);
        DeviceTensor dO = upload(rnd, Shape.of(2, 4, 45, 24), DType.F32);
        AttentionOptions bhsd = AttentionOptions.builder().causal(true).layout(AttentionLayout.BHSD).build();
        try (AttentionResult f1 = backend.attention().forward(new AttentionRequest(q, k, v, bhsd));
             AttentionResult f2 = backend.attention().forward(new AttentionRequest(view(q), view(k), view(v), bhsd));
             AttentionGradients g1 = backend.attention().backward(
                     new AttentionBackwardRequest(dO, q, k, v, f1.o(), f1.lse(), bhsd));
             AttentionGradients g2 = backend.attention().backward(new AttentionBackwardRequest(view(dO), view(q),
                     view(k), view(v), view(f1.o()), view(f1.lse()), bhsd))) {
            assertBitIdentical(down(f1.o(), f1.lse(), g1.dq(), g1.dk(), g1.dv()),
                    down(f2.o(), f2.lse(), g2.dq(), g2.dk(), g2.dv()), "BHSD");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void attentionInSixteenBitsOnViews(DType dtype) {
        SplittableRandom rnd = new SplittableRandom(4);
        DeviceTensor q = upload(rnd, Shape.of(1, 33, 2, 16), dtype);
        DeviceTensor k = upload(rnd, Shape.of(1, 33, 2, 16), dtype);
        DeviceTensor v = upload(rnd, Shape.of(1, 33, 2, 16), dtype);
        AttentionOptions causal = AttentionOptions.builder().causal(true).build();
        try (AttentionResult f1 = backend.attention().forward(new AttentionRequest(q, k, v, causal));
             AttentionResult f2 = backend.attention().forward(new AttentionRequest(view(q), view(k), view(v), causal))) {
            assertBitIdentical(down(f1.o(), f1.lse()), down(f2.o(), f2.lse()), dtype + " forward");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void normalizationOnViewsIsBitIdentical(DType dtype) {
        SplittableRandom rnd = new SplittableRandom(5);
        Shape shape = Shape.of(300, 67);   // several row chunks; 67 leaves vector tails
        for (NormKind kind : NormKind.values()) {
            DeviceTensor x = upload(rnd, shape, dtype);
            DeviceTensor r = upload(rnd, shape, dtype);
            DeviceTensor gamma = upload(rnd, Shape.of(67), dtype);
            DeviceTensor beta = kind == NormKind.LAYER_NORM ? upload(rnd, Shape.of(67), dtype) : null;
            DeviceTensor dy = upload(rnd, shape, dtype);
            DeviceTensor dSum = upload(rnd, shape, dtype);
            NormRequest plain = new NormRequest(kind, x, r, 1.7, gamma, beta, 1e-5);
            NormRequest viewed = new NormRequest(kind, view(x), view(r), 1.7, view(gamma), view(beta), 1e-5);
            try (NormResult y1 = backend.normalization().forward(plain);
                 NormResult y2 = backend.normalization().forward(viewed)) {
                String what = dtype + " " + kind;
                assertBitIdentical(down(y1.y(), y1.mean(), y1.rstd(), y1.sum()), down(y2.y(), y2.mean(), y2.rstd(), y2.sum()),
                        what + " forward");
                NormResult savedViews = new NormResult(view(y1.y()), view(y1.mean()), view(y1.rstd()), view(y1.sum()));
                try (NormGradients g1 = backend.normalization().backward(new NormBackwardRequest(plain, y1, dy, dSum));
                     NormGradients g2 = backend.normalization().backward(
                             new NormBackwardRequest(viewed, savedViews, view(dy), view(dSum)))) {
                    assertBitIdentical(down(g1.dInput(), g1.dResidual(), g1.dGamma(), g1.dBeta()),
                            down(g2.dInput(), g2.dResidual(), g2.dGamma(), g2.dBeta()), what + " backward");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void rotaryOnViewsIsBitIdentical(DType dtype) {
        SplittableRandom rnd = new SplittableRandom(6);
        int s = 9;
        int r = 34;
        DeviceTensor x = upload(rnd, Shape.of(2, s, 3, 70), dtype);
        DeviceTensor cos = upload(rnd, Shape.of(s, r / 2), DType.F32);
        DeviceTensor sin = upload(rnd, Shape.of(s, r / 2), DType.F32);
        DeviceTensor scale = upload(rnd, Shape.of(s, r / 2), DType.F32);
        for (RotaryLayout layout : RotaryLayout.values()) {
            Function<Boolean, RotaryRequest> request = viewed -> viewed
                    ? new RotaryRequest(view(x), view(cos), view(sin), view(scale), layout, false)
                    : new RotaryRequest(x, cos, sin, scale, layout, false);
            try (DeviceTensor y1 = backend.rotary().apply(request.apply(false));
                 DeviceTensor y2 = backend.rotary().apply(request.apply(true))) {
                assertArrayEquals(backend.tensors().download(y1), backend.tensors().download(y2), dtype + " " + layout);
            }
        }
    }

    @Test
    void modelPortsOnViewsAreBitIdentical() {
        SplittableRandom rnd = new SplittableRandom(7);
        Shape shape = Shape.of(130, 46);
        DeviceTensor a = upload(rnd, shape, DType.F32);
        DeviceTensor b = upload(rnd, shape, DType.F32);
        assertBitIdentical(down(backend.elementwise().add(new AddRequest(a, b, 0.3f))),
                down(backend.elementwise().add(new AddRequest(view(a), view(b), 0.3f))), "add");
        for (BroadcastAxis axis : BroadcastAxis.values()) {
            DeviceTensor v = upload(rnd, Shape.of(axis == BroadcastAxis.COLUMNS ? 46 : 130), DType.F32);
            DeviceTensor g1 = upload(rnd, v.shape(), DType.F32);
            DeviceTensor g2 = view(g1);
            var plain = new BroadcastMultiplyRequest(a, v, axis);
            var viewed = new BroadcastMultiplyRequest(view(a), view(v), axis);
            assertBitIdentical(down(backend.elementwise().multiply(plain)), down(backend.elementwise().multiply(viewed)),
                    axis + " multiply");
            assertBitIdentical(
                    down(backend.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(plain, b, true, g1)), g1),
                    down(backend.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(viewed, view(b), true,
                            g2)), g2), axis + " multiply backward");
        }
        var glu = new GluRequest(Activation.GELU, a);
        var gluViewed = new GluRequest(Activation.GELU, view(a));
        DeviceTensor dy = upload(rnd, glu.outputShape(), DType.F32);
        assertBitIdentical(down(backend.activation().glu(glu), backend.activation().gluBackward(new GluBackwardRequest(glu, dy))),
                down(backend.activation().glu(gluViewed),
                        backend.activation().gluBackward(new GluBackwardRequest(gluViewed, view(dy)))), "GLU");

        DeviceTensor p = upload(rnd, shape, DType.F32);
        DeviceTensor m = upload(rnd, shape, DType.F32);
        DeviceTensor vsq = backend.tensors().upload(new float[(int) shape.elementCount()], shape, DType.F32);
        DeviceTensor ss = backend.tensors().upload(new float[] {4f}, Shape.of(1), DType.F32);
        DeviceTensor p2 = view(p);
        DeviceTensor m2 = view(m);
        DeviceTensor v2 = view(vsq);
        backend.optimizer().adamW(new AdamWRequest(p, b, m, vsq, 3, 1e-3f, 0.9f, 0.99f, 1e-8f, 0.1f, new GradientClip(1f, ss)));
        backend.optimizer().adamW(new AdamWRequest(p2, view(b), m2, v2, 3, 1e-3f, 0.9f, 0.99f, 1e-8f, 0.1f,
                new GradientClip(1f, view(ss))));
        assertBitIdentical(down(p, m, vsq), down(p2, m2, v2), "AdamW");
    }
}
