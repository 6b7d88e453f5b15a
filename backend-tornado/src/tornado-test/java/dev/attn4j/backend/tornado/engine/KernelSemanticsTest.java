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
        int[] flashRows = new int[n > 0 ? batch * sk * n : 0];
        if (n > 0) {
            int[] rows = flashRows;
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

        // The JVM's copy of the heaps: q, k, v, dO, o, lse, delta, dq, dk, dv one after another; FlashMask in ints.
        int rows = batch * heads * sq;
        int[] sizes = {q.length, k.length, v.length, q.length, q.length, rows, rows, q.length, k.length, v.length};
        int[] at = new int[sizes.length];
        for (int i = 1; i < sizes.length; i++) {
            at[i] = at[i - 1] + sizes[i - 1];
        }
        FloatArray heap = new FloatArray(at[9] + sizes[9]);
        heap.init(0.0f);
        put(heap, at[0], q);
        put(heap, at[1], k);
        put(heap, at[2], v);
        IntArray ints = IntArray.fromArray(flashRows.length > 0 ? flashRows : new int[1]);
        IntArray meta = new IntArray(AttentionKernels.META_SIZE);
        FloatArray fmeta = new FloatArray(AttentionKernels.FMETA_SIZE);
        TornadoAttention.describe(s, options, meta, fmeta);
        meta.set(AttentionKernels.FMASK_AT, 0);
        int[] slots = {AttentionKernels.Q_AT, AttentionKernels.K_AT, AttentionKernels.V_AT, AttentionKernels.DO_AT,
                AttentionKernels.O_AT, AttentionKernels.LSE_AT, AttentionKernels.DELTA_AT, AttentionKernels.DQ_AT,
                AttentionKernels.DK_AT, AttentionKernels.DV_AT};
        for (int i = 0; i < slots.length; i++) {
            meta.set(slots[i], at[i]);
        }
        AttentionKernels.forward(heap, ints, meta, fmeta, rows);

        try (AttentionResult r = engine.attention().forward(request)) {
            assertClose("lse", heap, at[5], engine.tensors().download(r.lse()));
            assertClose("o", heap, at[4], engine.tensors().download(r.o()));

            // Backward from the device's forward outputs, on the device and as Java.
            float[] dO = randoms(rnd, q.length);
            put(heap, at[3], dO);
            put(heap, at[4], engine.tensors().download(r.o()));
            put(heap, at[5], engine.tensors().download(r.lse()));
            for (int t = 0; t < rows; t++) {
                AttentionKernels.rowDotItem(t, heap, meta);
            }
            AttentionKernels.backwardQ(heap, ints, meta, fmeta, rows);
            AttentionKernels.backwardKV(heap, ints, meta, fmeta, batch * kvHeads * sk);
            DeviceTensor tdO = engine.tensors().upload(dO, s.queryShape(), DType.F32);
            try (AttentionGradients g = engine.attention().backward(
                    new AttentionBackwardRequest(tdO, tq, tk, tv, r.o(), r.lse(), options))) {
                assertClose("dq", heap, at[7], engine.tensors().download(g.dq()));
                assertClose("dk", heap, at[8], engine.tensors().download(g.dk()));
                assertClose("dv", heap, at[9], engine.tensors().download(g.dv()));
            }
        }
    }

    private static void put(FloatArray heap, int at, float[] values) {
        for (int i = 0; i < values.length; i++) {
            heap.set(at + i, values[i]);
        }
    }

    private static void assertClose(String what, FloatArray heap, int at, float[] device) {
        for (int i = 0; i < device.length; i++) {
            float java = heap.get(at + i);
            assertEquals(java, device[i], 1e-5 * Math.max(1.0, Math.abs(java)), what + "[" + i + "]");
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
