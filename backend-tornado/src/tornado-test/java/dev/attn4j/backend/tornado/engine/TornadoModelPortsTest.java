package dev.attn4j.backend.tornado.engine;

import dev.attn4j.oracle.GluLayouts;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs only in the {@code tornado} profile: the model ports' kernels on the device. The GEMM against a float64
 * product on shapes that cut its 64 × 64 tiles and 16-deep panels every way (the conformance suite's shapes are
 * small); the heaps' bookkeeping (no block left behind, over open/close loops that run every new op); views
 * writing through and refused where they would overlap an in-place output; the fused cross-entropy bit-identical
 * run to run.
 */
class TornadoModelPortsTest {
    private static TornadoEngine engine;
    private static Backend backend;

    @BeforeAll
    static void open() {
        engine = TornadoEngine.open(BackendOptions.none());
        backend = Backend.of(engine);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    private static float[] randoms(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian());
        }
        return a;
    }

    /**
     * C = alpha·op(A)·op(B) + beta·C, batched with a shared operand, against a float64 product. The bound is the
     * fp32 product's: each element is one K-long multiply-add chain, so its error is below
     * {@code (K + 2)·2⁻²⁴·Σ|a||b|} plus the epilogue's roundings.
     */
    @ParameterizedTest(name = "batch={0} m={1} n={2} k={3} tA={4} tB={5} sharedB={6}")
    @CsvSource({"1,1,1,1,false,false,false", "1,64,64,16,false,false,false", "1,65,130,17,false,true,false",
            "2,127,3,200,true,false,false", "3,33,70,5,true,true,true", "1,5,9,2,false,true,false",
            "2,200,150,96,false,true,true"})
    void gemmMatchesAFloat64Product(int batch, int m, int n, int k, boolean tA, boolean tB, boolean sharedB) {
        Random rnd = new Random(m * 31L + n * 7L + k);
        float alpha = 0.75f;
        float beta = -0.5f;
        int bBatch = sharedB ? 1 : batch;
        float[] a = randoms(rnd, batch * m * k);
        float[] b = randoms(rnd, bBatch * k * n);
        float[] c = randoms(rnd, batch * m * n);
        try (DeviceTensor ta = backend.tensors().upload(a, tA ? Shape.of(batch, k, m) : Shape.of(batch, m, k), DType.F32);
             DeviceTensor tb = backend.tensors().upload(b, tB ? Shape.of(bBatch, n, k) : Shape.of(bBatch, k, n), DType.F32);
             DeviceTensor tc = backend.tensors().upload(c, Shape.of(batch, m, n), DType.F32)) {
            backend.linear().matmul(new MatmulRequest(ta, tA, tb, tB, tc, alpha, beta));
            float[] got = backend.tensors().download(tc);
            for (int e = 0; e < batch; e++) {
                int eb = sharedB ? 0 : e;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0;
                        double abs = 0;
                        for (int p = 0; p < k; p++) {
                            double av = tA ? a[e * m * k + p * m + i] : a[e * m * k + i * k + p];
                            double bv = tB ? b[eb * k * n + j * k + p] : b[eb * k * n + p * n + j];
                            sum += av * bv;
                            abs += Math.abs(av * bv);
                        }
                        int at = e * m * n + i * n + j;
                        double want = alpha * sum + beta * c[at];
                        double bound = (k + 4) * 0x1p-24 * (Math.abs(alpha) * abs + Math.abs(beta * c[at]))
                                + 0x1p-24 * Math.abs(want);
                        assertEquals(want, got[at], bound, "C[" + e + ", " + i + ", " + j + "]");
                    }
                }
            }
        }
    }

    /** The linear forward's bias rides in the GEMM's epilogue: y = x·Wᵀ + b on a shape crossing the tiles. */
    @Test
    void linearForwardAddsTheBiasOnEveryTile() {
        Random rnd = new Random(5);
        int rows = 70, in = 19, out = 66;
        float[] x = randoms(rnd, rows * in);
        float[] w = randoms(rnd, out * in);
        float[] bias = randoms(rnd, out);
        try (DeviceTensor tx = backend.tensors().upload(x, Shape.of(rows, in), DType.F32);
             DeviceTensor tw = backend.tensors().upload(w, Shape.of(out, in), DType.F32);
             DeviceTensor tbias = backend.tensors().upload(bias, Shape.of(out), DType.F32);
             DeviceTensor y = backend.linear().forward(LinearRequest.of(tx, tw, tbias))) {
            float[] got = backend.tensors().download(y);
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    double sum = bias[o];
                    double abs = Math.abs(bias[o]);
                    for (int p = 0; p < in; p++) {
                        sum += (double) x[r * in + p] * w[o * in + p];
                        abs += Math.abs((double) x[r * in + p] * w[o * in + p]);
                    }
                    assertEquals(sum, got[r * out + o], (in + 4) * 0x1p-24 * abs, "y[" + r + ", " + o + "]");
                }
            }
        }
    }

    /**
     * The split GLU (value and gate's input as two tensors, here views of one block at odd offsets) gives the
     * concatenated form's bits, its gradient stacked [2, ..., F], for every gate function.
     */
    @Test
    void splitGluEqualsTheConcatenatedFormBitForBit() {
        int rows = 29;
        int half = 37;
        int n = rows * half;
        Random rnd = new Random(12);
        var t = backend.tensors();
        for (Activation gate : Activation.values()) {
            float[] x = randoms(rnd, rows * 2 * half);
            float[] dy = randoms(rnd, n);
            float[] both = new float[2 * n + 4];
            System.arraycopy(GluLayouts.half(x, rows, half, 0), 0, both, 1, n);
            System.arraycopy(GluLayouts.half(x, rows, half, 1), 0, both, n + 3, n);
            try (DeviceTensor tx = t.upload(x, Shape.of(rows, 2 * half), DType.F32);
                 DeviceTensor tBoth = t.upload(both, Shape.of(both.length), DType.F32);
                 DeviceTensor tdy = t.upload(dy, Shape.of(rows, half), DType.F32)) {
                GluRequest concatenated = new GluRequest(gate, tx);
                GluRequest split = GluRequest.split(gate, t.view(tBoth, 1, Shape.of(rows, half)),
                        t.view(tBoth, n + 3, Shape.of(rows, half)));
                try (DeviceTensor y = backend.activation().glu(concatenated);
                     DeviceTensor ySplit = backend.activation().glu(split);
                     DeviceTensor dx = backend.activation().gluBackward(new GluBackwardRequest(concatenated, tdy));
                     DeviceTensor dSplit = backend.activation().gluBackward(new GluBackwardRequest(split, tdy))) {
                    assertEquals(Shape.of(rows, half), ySplit.shape(), gate.name());
                    assertArrayEquals(t.download(y), t.download(ySplit), gate + " y");
                    assertEquals(Shape.of(2, rows, half), dSplit.shape(), gate.name());
                    assertArrayEquals(t.download(dx), GluLayouts.unstack(t.download(dSplit), rows, half), gate + " dx");
                }
            }
        }
    }

    /** One round of every new op on {@code backend}; every tensor it makes is closed again. */
    private static void everyOp(Backend backend, Random rnd) {
        var t = backend.tensors();
        int rows = 6, d = 8, v = 11;
        try (DeviceTensor x = t.upload(randoms(rnd, rows * d), Shape.of(rows, d), DType.F32);
             DeviceTensor w = t.upload(randoms(rnd, v * d), Shape.of(v, d), DType.F32);
             DeviceTensor b = t.upload(randoms(rnd, v), Shape.of(v), DType.F32);
             DeviceTensor dW = t.zeros(Shape.of(v, d), DType.F32);
             DeviceTensor db = t.zeros(Shape.of(v), DType.F32);
             DeviceTensor targets = t.uploadInts(new int[] {0, 3, -100, 10, 2, 2}, Shape.of(rows));
             DeviceTensor ids = t.uploadInts(new int[] {1, 0, 10, 3, 3, 7}, Shape.of(rows))) {
            LinearRequest fwd = LinearRequest.of(x, w, b);
            try (DeviceTensor y = backend.linear().forward(fwd);
                 DeviceTensor dx = backend.linear().backward(new LinearBackwardRequest(fwd, y, true, dW, db));
                 DeviceTensor act = backend.activation().forward(new ActivationRequest(Activation.GELU, y));
                 DeviceTensor glu = backend.activation().glu(new GluRequest(Activation.SILU, x));
                 DeviceTensor dGlu = backend.activation().gluBackward(new GluBackwardRequest(new GluRequest(
                         Activation.SILU, x), glu));
                 DeviceTensor gluSplit = backend.activation().glu(GluRequest.split(Activation.GELU, x, dx));
                 DeviceTensor dGluSplit = backend.activation().gluBackward(new GluBackwardRequest(
                         GluRequest.split(Activation.RELU, dx, x), gluSplit));
                 DeviceTensor emb = backend.embedding().forward(new EmbeddingRequest(w, ids));
                 DeviceTensor seq = t.view(x, 0, Shape.of(2, 3, d));
                 DeviceTensor shifted = backend.elementwise().shiftTokens(new TokenShiftRequest(seq, 2, 4, 1, null));
                 CrossEntropyResult ce = backend.loss().linearCrossEntropy(CrossEntropyRequest.training(x, w, b,
                         targets, 0.25f, dW, db).withPerTokenLoss());
                 DeviceTensor m = t.zeros(Shape.of(v, d), DType.F32);
                 DeviceTensor s = t.zeros(Shape.of(v, d), DType.F32);
                 DeviceTensor ss = t.zeros(Shape.of(1), DType.F32);
                 DeviceTensor cast = t.cast(x, DType.F32)) {
                backend.embedding().backward(new EmbeddingBackwardRequest(new EmbeddingRequest(w, ids), emb, dW));
                backend.elementwise().axpy(new AxpyRequest(0.5f, dx, cast));
                backend.optimizer().sumOfSquares(new SumOfSquaresRequest(dW, ss));
                backend.optimizer().adamW(new AdamWRequest(w, dW, m, s, 1, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f,
                        new GradientClip(1f, ss)));
                backend.random().uniform(new UniformRequest(dW, -1f, 1f, 42L, 7L));
                t.copy(CopyRequest.into(b, db, 0));
                t.fill(act, 3f);
                assertEquals(rows * d, t.download(shifted).length);
            }
        }
    }

    /**
     * Open/close loops running every new op: each call returns its blocks (temporaries included), the engine
     * counts no open tensor after the round, and closing a backend leaves nothing for the next to inherit.
     */
    @Test
    void everyNewOpReturnsItsBlocksOverOpenCloseLoops() {
        Random rnd = new Random(3);
        long[] before = engine.heap().used();
        everyOp(backend, rnd);
        assertArrayEquals(before, engine.heap().used(), "blocks left in the heaps after a round of every op");
        assertEquals(0, backend.openTensors().orElseThrow());
        for (int round = 0; round < 3; round++) {
            TornadoEngine other = TornadoEngine.open(BackendOptions.none());
            DeviceTensor left;
            try (Backend b = Backend.of(other)) {
                everyOp(b, rnd);
                assertArrayEquals(new long[] {0, 0}, other.heap().used(), "round " + round);
                assertEquals(0, b.openTensors().orElseThrow());
                // one tensor left open: closing the backend closes it
                left = b.tensors().upload(new float[] {1, 2, 3}, Shape.of(3), DType.F32);
                assertEquals(1, b.openTensors().orElseThrow());
            }
            assertTrue(left.isClosed(), "closing the backend closes its tensors");
        }
        everyOp(backend, rnd);
        assertArrayEquals(before, engine.heap().used());
        assertTrue(engine.heap().hostSideUntouched(), "data went through the heaps' host side");
    }

    /** A view reads and writes its base's block; closing the base closes it; overlapping in-place writes refuse. */
    @Test
    void viewsWriteThroughCloseWithTheirBaseAndOverlapsAreRefused() {
        var t = backend.tensors();
        DeviceTensor base = t.upload(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, Shape.of(8), DType.F32);
        DeviceTensor tail = t.view(base, 4, Shape.of(2, 2));
        DeviceTensor inner = t.view(tail, 1, Shape.of(2));
        t.fill(inner, 9f);
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 9, 9, 7}, t.download(base));
        DeviceTensor head = t.view(base, 3, Shape.of(4));
        // y = head [3, 7) and x = tail [4, 8) share three elements: refused before anything runs
        DeviceTensor tailFlat = t.view(base, 4, Shape.of(4));
        assertThrows(InvalidRequestException.class, () -> backend.elementwise().axpy(new AxpyRequest(1f, tailFlat, head)));
        backend.elementwise().axpy(new AxpyRequest(1f, tailFlat, tailFlat));
        assertArrayEquals(new float[] {0, 1, 2, 3, 8, 18, 18, 14}, t.download(base));
        base.close();
        assertTrue(tail.isClosed() && inner.isClosed() && head.isClosed() && tailFlat.isClosed());
        assertEquals(0, backend.openTensors().orElseThrow());
    }

    /** The fused cross-entropy's loss and gradients are the same bits run to run (no atomics, fixed orders). */
    @Test
    void crossEntropyIsDeterministic() {
        Random rnd = new Random(11);
        var t = backend.tensors();
        int rows = 37, d = 24, v = 300;
        int[] ids = new int[rows];
        for (int i = 0; i < rows; i++) {
            ids[i] = i % 5 == 0 ? CrossEntropyRequest.IGNORE_INDEX : rnd.nextInt(v);
        }
        try (DeviceTensor h = t.upload(randoms(rnd, rows * d), Shape.of(rows, d), DType.F32);
             DeviceTensor w = t.upload(randoms(rnd, v * d), Shape.of(v, d), DType.F32);
             DeviceTensor targets = t.uploadInts(ids, Shape.of(rows))) {
            float[][] first = null;
            for (int run = 0; run < 2; run++) {
                try (DeviceTensor dW = t.zeros(Shape.of(v, d), DType.F32);
                     CrossEntropyResult r = backend.loss().linearCrossEntropy(
                             CrossEntropyRequest.training(h, w, null, targets, 1f / rows, dW, null))) {
                    float[][] now = {t.download(r.lossSum()), t.download(r.dHidden()), t.download(dW)};
                    if (first == null) {
                        first = now;
                        assertEquals(rows - 8, t.download(r.count())[0]);
                    } else {
                        for (int i = 0; i < now.length; i++) {
                            assertArrayEquals(first[i], now[i]);
                        }
                    }
                }
            }
        }
    }
}
