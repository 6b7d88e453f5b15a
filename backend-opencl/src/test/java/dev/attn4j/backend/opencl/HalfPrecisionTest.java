package dev.attn4j.backend.opencl;

import dev.attn4j.oracle.AttentionGrads;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.NormGrads;
import dev.attn4j.oracle.NormOracle;
import dev.attn4j.oracle.NormOutputs;
import dev.attn4j.oracle.NormProblem;
import dev.attn4j.oracle.Precision;
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
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;
import dev.attn4j.ports.tensor.Shape;
import org.jocl.Pointer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static dev.attn4j.backend.opencl.OpenClTesting.random;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * F16 / BF16 storage: {@code half.cl}'s conversions bit for bit against {@link HalfFloats}, and 16-bit
 * attention and normalisation against the float64 oracle, with no buffer left behind.
 */
class HalfPrecisionTest {
    private static OpenClEngine engine;
    private static Backend backend;

    @BeforeAll
    static void open() {
        engine = OpenClTesting.openEngine();
        backend = Backend.of(engine);
    }

    @AfterAll
    static void close() {
        if (backend != null) backend.close();
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void wideningEvery16BitPatternMatchesHalfFloats(DType dtype) {
        short[] bits = new short[1 << 16];
        for (int i = 0; i < bits.length; i++) bits[i] = (short) i;
        int before = engine.liveBuffers();
        try (ClTensor half = engine.allocate(Shape.of(bits.length), dtype, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                Pointer.to(bits));
             ClTensor wide = ClHalfPrecision.widenCopy(engine, half)) {
            int[] got = new int[bits.length];
            read(wide, Pointer.to(got));
            for (int i = 0; i < bits.length; i++) {
                float java = HalfFloats.from(dtype, bits[i]);
                int want = Float.floatToRawIntBits(java);
                if (dtype == DType.F16 && Float.isNaN(java)) {
                    // Quiet, same sign and payload (HalfFloats' own quiet bit depends on the JIT; see half.cl).
                    want |= 0x00400000;
                }
                if (got[i] != want) {
                    fail(String.format("%s 0x%04x widened to 0x%08x, HalfFloats gives 0x%08x", dtype, i, got[i], want));
                }
            }
        }
        assertEquals(before, engine.liveBuffers());
    }

    /** Ties both ways, NaN (quiet, signalling, with payload), ±inf, ±0, subnormals of both sides, overflow. */
    static float[] edgeValues() {
        int[] bits = {
                0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa01234,
                0xff81e00f, 0x7fffffff, 0x00000001, 0x807fffff, 0x00400000,       // fp32 NaNs and subnormals
                0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0xbf808000,       // bf16 ties to even, either way
                0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, 0xff7fffff,                    // bf16 overflow to inf, and not
                0x3f801000, 0x3f803000, 0x3f801001, 0x3f800fff,                    // f16 ties at 1.0
                0x477fe000, 0x477fefff, 0x477ff000, 0x477ff001, 0x47800000, 0xc77ff000, // 65504, 65520 (-> inf)
                0x38800000, 0x387fc000, 0x33800000, 0x33000000, 0x33000001, 0x33400000, 0xb3400000, // f16 subnormals
                0x33c00000, 0x34200000, 0x34400000, 0x38ffe000, 0x38fff000, 0x387ff000, 0x387fe000};
        float[] out = new float[bits.length + 4096];
        for (int i = 0; i < bits.length; i++) out[i] = Float.intBitsToFloat(bits[i]);
        Random rnd = new Random(11);
        for (int i = bits.length; i < out.length; i++) {
            // Exponents where F16 goes from zero through subnormal and normal to inf.
            out[i] = Float.intBitsToFloat((rnd.nextInt() & 0x807fffff) | ((100 + rnd.nextInt(60)) << 23));
            if (i % 7 == 0) out[i] = Float.intBitsToFloat(rnd.nextInt());
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void narrowingEdgeValuesMatchesHalfFloats(DType dtype) {
        float[] values = edgeValues();
        int before = engine.liveBuffers();
        try (ClTensor wide = engine.allocate(Shape.of(values.length), DType.F32, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                Pointer.to(values));
             ClTensor half = ClHalfPrecision.narrowCopy(engine, wide, dtype)) {
            short[] got = new short[values.length];
            read(half, Pointer.to(got));
            for (int i = 0; i < values.length; i++) {
                short want = HalfFloats.to(dtype, values[i]);
                if (dtype == DType.F16 && Float.isNaN(values[i])) {
                    // Quiet, same sign, the payload's upper 9 bits (HalfFloats' NaN bits depend on the JIT).
                    int b = Float.floatToRawIntBits(values[i]);
                    assertTrue(Float.isNaN(HalfFloats.fromF16(want)));
                    want = (short) (((b >>> 16) & 0x8000) | 0x7e00 | ((b >>> 13) & 0x3ff));
                }
                if (got[i] != want) {
                    fail(String.format("%s of 0x%08x: got 0x%04x, HalfFloats gives 0x%04x", dtype,
                            Float.floatToRawIntBits(values[i]), got[i] & 0xffff, want & 0xffff));
                }
            }
        }
        assertEquals(before, engine.liveBuffers());
    }

    @Test
    void uploadAndDownloadRoundOnTheHost() {
        float[] x = {1f / 3, 65520f, -0f, 1e-8f, Float.NaN};
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            try (DeviceTensor t = backend.tensors().upload(x, Shape.of(x.length), dtype);
                 DeviceTensor z = backend.tensors().zeros(Shape.of(3), dtype)) {
                assertEquals(2L * x.length, ((ClTensor) t).byteSize(), "2 bytes per element");
                float[] back = backend.tensors().download(t);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(HalfFloats.from(dtype, HalfFloats.to(dtype, x[i])), back[i], dtype + " [" + i + "]");
                }
                assertEquals(0f, backend.tensors().download(z)[2]);
            }
        }
    }

    /** BF16 attention (GQA, causal, a BF16 dense bias) forward and backward against the float64 oracle. */
    @Test
    void bf16AttentionMatchesTheOracle() {
        DType dt = DType.BF16;
        AttentionSpec base = AttentionKernelsTest.plain(2, 21, 33, 4, 2, 40, true);
        Random rnd = new Random(21);
        double[] bias = rounded(dt, random(rnd, 2 * 21 * 33, 1));
        AttentionSpec p = base.with(AttentionSpec.Extras.NONE.withBias(bias, 2, 1));
        double[] q = rounded(dt, random(rnd, p.b() * p.sq() * p.h() * p.d(), 1.5));
        double[] k = rounded(dt, random(rnd, p.b() * p.sk() * p.hkv() * p.d(), 1.5));
        double[] v = rounded(dt, random(rnd, p.b() * p.sk() * p.hkv() * p.d(), 1));
        double[] dout = rounded(dt, random(rnd, q.length, 1));
        AttentionProblem problem = p.problem(q, k, v);
        AttentionOutputs gold = AttentionOracle.forward(problem, Precision.FP64);
        AttentionGrads gGold = AttentionOracle.backward(problem, dout, Precision.FP64);
        int before = engine.liveBuffers();
        Shape qs = Shape.of(p.b(), p.sq(), p.h(), p.d());
        Shape ks = Shape.of(p.b(), p.sk(), p.hkv(), p.d());
        try (DeviceTensor qt = up(q, qs, dt); DeviceTensor kt = up(k, ks, dt); DeviceTensor vt = up(v, ks, dt);
             DeviceTensor bt = up(bias, Shape.of(2, 1, p.sq(), p.sk()), dt); DeviceTensor dOt = up(dout, qs, dt)) {
            AttentionOptions opt = AttentionOptions.builder().causal(true).denseBias(bt).build();
            try (AttentionResult f = backend.attention().forward(new AttentionRequest(qt, kt, vt, opt));
                 AttentionGradients g = backend.attention().backward(
                         new AttentionBackwardRequest(dOt, qt, kt, vt, f.o(), f.lse(), opt))) {
                assertEquals(dt, f.o().dtype());
                assertEquals(DType.F32, f.lse().dtype());
                assertEquals(dt, g.dq().dtype());
                assertEquals(dt, g.dv().dtype());
                // o is rounded once: half a BF16 ulp; lse is F32 from rounded inputs.
                assertNear("o", gold.o(), backend.tensors().download(f.o()), 0x1p-8, 1e-5);
                assertNear("lse", gold.lse(), backend.tensors().download(f.lse()), 0, 1e-5);
                // The backward also reads the rounded o (delta = rowsum(dO∘o)): a few BF16 ulps of the largest.
                assertNear("dq", gGold.dq(), backend.tensors().download(g.dq()), 0x1p-8, 0x1p-7 * maxAbs(gGold.dq()));
                assertNear("dk", gGold.dk(), backend.tensors().download(g.dk()), 0x1p-8, 0x1p-7 * maxAbs(gGold.dk()));
                assertNear("dv", gGold.dv(), backend.tensors().download(g.dv()), 0x1p-8, 1e-5);
            }
        }
        assertEquals(before, engine.liveBuffers(), "every temporary released");
    }

    /** F16 LayerNorm with residual and beta, F16 parameters, forward and backward against the float64 oracle. */
    @Test
    void f16NormMatchesTheOracle() {
        DType dt = DType.F16;
        NormSpec n = new NormSpec(true, 6, 70, 1e-5, 1, true, true);
        Random rnd = new Random(6);
        int len = n.rows() * n.cols();
        double[] x = random(rnd, len, 2);
        for (int i = 0; i < len; i++) x[i] += 0.5;
        x = rounded(dt, x);
        double[] res = rounded(dt, random(rnd, len, 1));
        double[] gamma = rounded(dt, random(rnd, n.cols(), 1.5));
        double[] beta = rounded(dt, random(rnd, n.cols(), 1));
        double[] dy = rounded(dt, random(rnd, len, 1));
        double[] dsum = rounded(dt, random(rnd, len, 1));
        NormProblem problem = n.problem(x, res, gamma, beta);
        NormOutputs gold = NormOracle.forward(problem, Precision.FP64);
        // The F32 kernels see the residual sum rounded to F16, as the backward does.
        NormGrads gGold = NormOracle.backward(problem, dy, dsum, Precision.FP64);
        int before = engine.liveBuffers();
        Shape shape = Shape.of(n.rows(), n.cols());
        try (DeviceTensor xt = up(x, shape, dt); DeviceTensor rt = up(res, shape, dt);
             DeviceTensor gt = up(gamma, Shape.of(n.cols()), dt); DeviceTensor bt = up(beta, Shape.of(n.cols()), dt);
             DeviceTensor dyt = up(dy, shape, dt); DeviceTensor dst = up(dsum, shape, dt)) {
            NormRequest req = new NormRequest(NormKind.LAYER_NORM, xt, rt, 1, gt, bt, n.eps());
            try (NormResult f = backend.normalization().forward(req);
                 NormGradients g = backend.normalization().backward(new NormBackwardRequest(req, f, dyt, dst))) {
                assertEquals(dt, f.y().dtype());
                assertEquals(dt, f.sum().dtype());
                assertEquals(DType.F32, f.rstd().dtype());
                assertEquals(dt, g.dGamma().dtype());
                assertNear("y", gold.y(), backend.tensors().download(f.y()), 0x1p-11, 1e-6);
                assertNear("sum", gold.sum(), backend.tensors().download(f.sum()), 0x1p-11, 0);
                assertNear("mean", gold.mean(), backend.tensors().download(f.mean()), 0x1p-11, 1e-6);
                assertNear("rstd", gold.rstd(), backend.tensors().download(f.rstd()), 0x1p-11, 1e-6);
                // The backward's input is the F16-rounded sum: a few F16 ulps of the largest gradient.
                assertNear("dInput", gGold.dInput(), backend.tensors().download(g.dInput()), 0x1p-11,
                        0x1p-9 * maxAbs(gGold.dInput()));
                assertNear("dResidual", gGold.dResidual(), backend.tensors().download(g.dResidual()), 0x1p-11,
                        0x1p-9 * maxAbs(gGold.dResidual()));
                assertNear("dGamma", gGold.dGamma(), backend.tensors().download(g.dGamma()), 0x1p-11,
                        0x1p-9 * maxAbs(gGold.dGamma()));
                assertNear("dBeta", gGold.dBeta(), backend.tensors().download(g.dBeta()), 0x1p-11, 1e-5);
            }
        }
        assertEquals(before, engine.liveBuffers(), "every temporary released");
    }

    /** {@code |gold − actual| ≤ rel·|gold| + abs} everywhere; NaN never passes. */
    static void assertNear(String what, double[] gold, float[] actual, double rel, double abs) {
        assertEquals(gold.length, actual.length, what + ": length");
        for (int i = 0; i < gold.length; i++) {
            double tol = rel * Math.abs(gold[i]) + abs;
            assertTrue(Math.abs(gold[i] - actual[i]) <= tol, String.format("%s[%d]: golden %.8g, got %.8g, tolerance %.3g",
                    what, i, gold[i], actual[i], tol));
        }
    }

    static double maxAbs(double[] a) {
        double m = 0;
        for (double x : a) m = Math.max(m, Math.abs(x));
        return m;
    }

    /** {@code a} rounded to {@code dtype}, so the reference sees exactly what the device stores. */
    static double[] rounded(DType dtype, double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = HalfFloats.from(dtype, HalfFloats.to(dtype, (float) a[i]));
        return r;
    }

    static DeviceTensor up(double[] data, Shape shape, DType dtype) {
        return backend.tensors().upload(OpenClTesting.f32(data), shape, dtype);
    }

    private static void read(ClTensor t, Pointer host) {
        synchronized (engine) {
            clEnqueueReadBuffer(engine.queue(), t.buffer(), CL_TRUE, 0, t.byteSize(), host, 0, null, null);
        }
    }
}
