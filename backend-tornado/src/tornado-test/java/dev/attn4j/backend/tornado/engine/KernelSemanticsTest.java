package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernels are plain Java: run sequentially on the JVM they define what the device must compute. Each case
 * runs the forward and the backward through the engine (TornadoVM-compiled, bailout off) and the same kernel
 * methods on the JVM, and compares; a difference is a TornadoVM compilation problem, not a formula one.
 */
class KernelSemanticsTest {
    private static TornadoEngine engine;

    @BeforeAll
    static void open() {
        engine = TornadoEngine.open(BackendOptions.none());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @ParameterizedTest(name = "Sq={0} Sk={1} causal={2} flashMask n={3} dropout={4}")
    @CsvSource({"6,6,true,1,0", "6,6,true,2,0", "6,6,false,2,0", "6,6,false,4,0", "5,7,false,0,0.3",
            "5,7,true,0,0.3", "4,4,false,0,0"})
    void deviceMatchesTheKernelsRunAsJava(int sq, int sk, boolean causal, int n, double p) {
        int batch = 2, heads = 2, kvHeads = 1, d = 8;
        Random rnd = new Random(sq * 7L + sk + n);
        float[] q = randoms(rnd, batch * sq * heads * d);
        float[] k = randoms(rnd, batch * sk * kvHeads * d);
        float[] v = randoms(rnd, batch * sk * kvHeads * d);
        DeviceTensor tq = engine.tensors().upload(q, Shape.of(batch, sq, heads, d), DType.F32);
        DeviceTensor tk = engine.tensors().upload(k, Shape.of(batch, sk, kvHeads, d), DType.F32);
        DeviceTensor tv = engine.tensors().upload(v, Shape.of(batch, sk, kvHeads, d), DType.F32);
        AttentionOptions.Builder b = AttentionOptions.builder().causal(causal);
        if (n > 0) {
            int[] rows = new int[batch * sk * n];
            for (int i = 0; i < rows.length; i += n) {
                int a = rnd.nextInt(sq + 1);
                int c = a + rnd.nextInt(sq + 1 - a);
                rows[i] = a;
                if (n >= 2) rows[i + 1] = n == 2 && !causal ? rnd.nextInt(a + 1) : c;
                if (n == 4) {
                    rows[i + 2] = c;
                    rows[i + 3] = c + rnd.nextInt(sq + 1 - c);
                }
            }
            b.flashMask(engine.tensors().uploadInts(rows, Shape.of(batch, 1, sk, n)));
        }
        if (p > 0) {
            b.dropout(new Dropout(p, 0x1234_5678_9abcL, 3L));
        }
        AttentionOptions options = b.build();
        AttentionRequest request = new AttentionRequest(tq, tk, tv, options);
        AttentionShape s = request.shape();

        FloatArray o = new FloatArray(q.length);
        FloatArray lse = new FloatArray(batch * heads * sq);
        IntArray meta = new IntArray(AttentionKernels.META_SIZE);
        FloatArray fmeta = new FloatArray(AttentionKernels.FMETA_SIZE);
        FloatArray slopes = new FloatArray(batch * heads);
        IntArray fmask = new IntArray(Math.max(1, batch * sk * n));
        TornadoAttention.describe(s, options, meta, fmeta);
        TornadoAttention.copyFeatures(s, options, slopes, new FloatArray(1), new ByteArray(1), new FloatArray(1), fmask);
        AttentionKernels.forward(FloatArray.fromArray(q), FloatArray.fromArray(k), FloatArray.fromArray(v), o, lse, meta,
                fmeta, slopes, new FloatArray(1), new ByteArray(1), new FloatArray(1), fmask, lse.getSize());

        try (AttentionResult r = engine.attention().forward(request)) {
            assertClose("lse", lse, engine.tensors().download(r.lse()));
            assertClose("o", o, engine.tensors().download(r.o()));

            // Backward from the device's forward outputs, on the device and as Java.
            float[] dO = randoms(rnd, q.length);
            FloatArray qa = FloatArray.fromArray(q), ka = FloatArray.fromArray(k), va = FloatArray.fromArray(v);
            FloatArray dOa = FloatArray.fromArray(dO);
            FloatArray oa = FloatArray.fromArray(engine.tensors().download(r.o()));
            FloatArray lsea = FloatArray.fromArray(engine.tensors().download(r.lse()));
            FloatArray delta = new FloatArray(lse.getSize());
            FloatArray dq = new FloatArray(q.length);
            FloatArray dk = new FloatArray(k.length);
            FloatArray dv = new FloatArray(v.length);
            AttentionKernels.rowDot(dOa, oa, delta, meta, lse.getSize());
            AttentionKernels.backwardQ(qa, ka, va, dOa, lsea, delta, dq, meta, fmeta, slopes, new FloatArray(1),
                    new ByteArray(1), new FloatArray(1), fmask, lse.getSize());
            AttentionKernels.backwardKV(qa, ka, va, dOa, lsea, delta, dk, dv, meta, fmeta, slopes, new FloatArray(1),
                    new ByteArray(1), new FloatArray(1), fmask, batch * kvHeads * sk);
            DeviceTensor tdO = engine.tensors().upload(dO, s.queryShape(), DType.F32);
            try (AttentionGradients g = engine.attention().backward(
                    new AttentionBackwardRequest(tdO, tq, tk, tv, r.o(), r.lse(), options))) {
                assertClose("dq", dq, engine.tensors().download(g.dq()));
                assertClose("dk", dk, engine.tensors().download(g.dk()));
                assertClose("dv", dv, engine.tensors().download(g.dv()));
            }
        }
    }

    private static void assertClose(String what, FloatArray java, float[] device) {
        for (int i = 0; i < device.length; i++) {
            assertEquals(java.get(i), device[i], 1e-5 * Math.max(1.0, Math.abs(java.get(i))), what + "[" + i + "]");
        }
    }

    private static float[] randoms(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
