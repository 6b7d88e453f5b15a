package dev.attn4j.backend.cuda;

import dev.attn4j.oracle.CrossEntropyOracle;
import dev.attn4j.oracle.LinearOracle;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cuBLAS calls the engine plans, checked without a GPU: each planned {@link GemmCall} (column-major operands,
 * operand order, transposes, leading dimensions, offsets, batch strides) is replayed by {@link HostGemm} — a
 * reference of {@code cublasGemmStridedBatchedEx} written from cuBLAS's documentation — in float64 on host buffers,
 * and the result must be the float64 oracle's for the row-major op (to 1e-12 relative: the arguments, not the
 * precision, are under test). Operands sit at odd offsets inside larger buffers, as views and chunks do.
 */
class GemmPlanTest {
    private static final double TOLERANCE = 1e-12;

    /** Host buffers standing for device allocations; a pointer's allocation is its buffer's key. */
    private static final class Memory {
        final Map<Object, double[]> buffers = new IdentityHashMap<>();

        /** {@code values} placed at element {@code offset} of a new buffer padded with NaN on both sides. */
        DevicePointer place(double[] values, int offset, DType type) {
            double[] b = new double[offset + values.length + 5];
            Arrays.fill(b, Double.NaN);
            System.arraycopy(values, 0, b, offset, values.length);
            Object key = new Object();
            buffers.put(key, b);
            return new DevicePointer(key, (long) offset * type.byteSize());
        }

        /** {@code count} elements read from {@code p}. */
        double[] read(DevicePointer p, int count, DType type) {
            int at = Math.toIntExact(p.byteOffset() / type.byteSize());
            return Arrays.copyOfRange(buffers.get(p.allocation()), at, at + count);
        }

        void run(GemmCall g) {
            HostGemm.run(g, p -> buffers.get(p.allocation()), HostGemm.Arithmetic.FLOAT64);
        }
    }

    /** A stand-in tensor: the requests read only shapes and dtypes. */
    private record Fake(Shape shape, DType dtype) implements DeviceTensor {
        @Override
        public String backendName() {
            return "plan";
        }

        @Override
        public boolean isClosed() {
            return false;
        }

        @Override
        public void close() {
        }
    }

    private static double[] gaussian(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextGaussian();
        }
        return v;
    }

    private static void assertClose(String what, double[] want, double[] got) {
        assertEquals(want.length, got.length, what);
        double scale = 1;
        for (double w : want) {
            scale = Math.max(scale, Math.abs(w));
        }
        for (int i = 0; i < want.length; i++) {
            double e = Math.abs(want[i] - got[i]);
            int at = i;
            assertTrue(e <= TOLERANCE * scale, () -> what + " [" + at + "]: want " + want[at] + ", got " + got[at]);
        }
    }

    private static Shape append(Shape lead, int last) {
        int[] d = Arrays.copyOf(lead.dims(), lead.rank() + 1);
        d[lead.rank()] = last;
        return Shape.of(d);
    }

    @Test
    void linearForwardAndBackwardGemmsComputeTheOraclesLayer() {
        Random r = new Random(11);
        Object[][] cases = {
                // lead, in, out, bias, layout, dx, dW
                {Shape.of(1), 1, 1, true, WeightLayout.OUT_IN, true, true},
                {Shape.of(7), 13, 5, false, WeightLayout.OUT_IN, true, true},
                {Shape.of(2, 9), 31, 17, true, WeightLayout.IN_OUT, true, true},
                {Shape.of(3, 5), 64, 67, true, WeightLayout.OUT_IN, false, true},
                {Shape.of(1, 1), 129, 3, true, WeightLayout.OUT_IN, true, false},
                {Shape.of(37), 97, 65, false, WeightLayout.IN_OUT, false, true},
                {Shape.of(2, 3, 11), 33, 63, true, WeightLayout.IN_OUT, true, true},
                {Shape.of(61), 1, 29, false, WeightLayout.OUT_IN, true, true},
                {Shape.of(5), 200, 1, true, WeightLayout.IN_OUT, true, true},
        };
        for (Object[] c : cases) {
            Shape lead = (Shape) c[0];
            int in = (int) c[1];
            int out = (int) c[2];
            boolean bias = (boolean) c[3];
            WeightLayout layout = (WeightLayout) c[4];
            boolean wantDx = (boolean) c[5];
            boolean wantDw = (boolean) c[6];
            int rows = Math.toIntExact(lead.elementCount());
            DType t = DType.F32;
            Shape wShape = layout == WeightLayout.OUT_IN ? Shape.of(out, in) : Shape.of(in, out);
            double[] x = gaussian(r, rows * in);
            double[] w = gaussian(r, out * in);
            double[] b = bias ? gaussian(r, out) : null;
            double[] dy = gaussian(r, rows * out);
            double[] dW0 = gaussian(r, out * in);
            String id = lead + " in" + in + " out" + out + " " + layout + (bias ? " bias" : "");

            LinearRequest fwd = new LinearRequest(new Fake(append(lead, in), t), new Fake(wShape, t),
                    bias ? new Fake(Shape.of(out), t) : null, layout);
            Memory m = new Memory();
            DevicePointer px = m.place(x, 3, t);
            DevicePointer pw = m.place(w, 1, t);
            // the engine broadcasts the bias into y before the GEMM adds into it; here the test does
            double[] y0 = new double[rows * out];
            for (int i = 0; i < y0.length; i++) {
                y0[i] = bias ? b[i % out] : Double.NaN;   // NaN: beta = 0 must not read y
            }
            DevicePointer py = m.place(y0, 2, t);
            m.run(CudaLinear.forwardGemms(fwd, px, pw, py));
            assertClose("y " + id, LinearOracle.forward(x, rows, in, w, layout, out, b, Precision.FP64),
                    m.read(py, rows * out, t));

            LinearBackwardRequest back = new LinearBackwardRequest(fwd, new Fake(append(lead, out), t), wantDx,
                    wantDw ? new Fake(wShape, t) : null, null);
            double[] nan = new double[rows * in];
            Arrays.fill(nan, Double.NaN);
            DevicePointer pdx = m.place(nan, 4, t);
            DevicePointer pdW = m.place(dW0, 6, t);
            List<GemmCall> gemms = CudaLinear.backwardGemms(back, px, pw, m.place(dy, 7, t), wantDx ? pdx : null,
                    wantDw ? pdW : null);
            assertEquals((wantDx ? 1 : 0) + (wantDw ? 1 : 0), gemms.size(), id);
            gemms.forEach(m::run);
            LinearOracle.Grads want = LinearOracle.backward(x, rows, in, w, layout, out, dy, wantDx, wantDw ? dW0 : null,
                    null, Precision.FP64);
            if (wantDx) {
                assertClose("dx " + id, want.dx(), m.read(pdx, rows * in, t));
            }
            if (wantDw) {
                assertClose("dW (accumulated) " + id, want.dWeight(), m.read(pdW, out * in, t));
                assertTrue(gemms.getLast().beta() == 1f, "dW is accumulated: beta = 1");
            }
        }
    }

    @Test
    void matmulGemmsComputeTheOraclesProducts() {
        Random r = new Random(12);
        Object[][] cases = {
                // batch (0: rank 2), aShared, bShared, m, n, k, tA, tB, alpha, beta
                {0, false, false, 1, 1, 1, false, false, 1f, 0f},
                {0, false, false, 17, 31, 13, false, true, 1f, 0f},
                {0, false, false, 65, 3, 97, true, false, 0.5f, 1f},
                {0, false, false, 5, 64, 130, true, true, -2f, 0.25f},
                {3, false, false, 7, 11, 5, false, false, 1f, 0f},
                {5, true, false, 13, 9, 17, false, true, 1f, 1f},
                {4, false, true, 3, 29, 31, true, false, 1.5f, 0f},
                {1, false, false, 16, 16, 16, true, true, 1f, 0.5f},
                {2, true, true, 6, 7, 8, false, false, 1f, 0f},
                {6, false, true, 9, 1, 4, true, true, 1f, 0f},
        };
        for (Object[] c : cases) {
            int batch = (int) c[0];
            boolean aShared = (boolean) c[1];
            boolean bShared = (boolean) c[2];
            int m = (int) c[3];
            int n = (int) c[4];
            int k = (int) c[5];
            boolean tA = (boolean) c[6];
            boolean tB = (boolean) c[7];
            float alpha = (float) c[8];
            float beta = (float) c[9];
            DType t = DType.F32;
            int products = Math.max(batch, 1);
            Shape aShape = shape(batch, aShared, tA ? k : m, tA ? m : k);
            Shape bShape = shape(batch, bShared, tB ? n : k, tB ? k : n);
            Shape cShape = shape(batch, false, m, n);
            double[] a = gaussian(r, Math.toIntExact(aShape.elementCount()));
            double[] b = gaussian(r, Math.toIntExact(bShape.elementCount()));
            double[] c0 = gaussian(r, Math.toIntExact(cShape.elementCount()));
            if (beta == 0) {
                Arrays.fill(c0, Double.NaN);
            }
            MatmulRequest req = new MatmulRequest(new Fake(aShape, t), tA, new Fake(bShape, t), tB, new Fake(cShape, t),
                    alpha, beta);
            Memory mem = new Memory();
            DevicePointer pc = mem.place(c0, 5, t);
            GemmCall g = CudaLinear.matmulGemm(req, mem.place(a, 3, t), mem.place(b, 2, t), pc);
            mem.run(g);
            double[] want = LinearOracle.matmul(new LinearOracle.MatmulDims(products, aShared && batch > 0,
                    bShared && batch > 0, m, n, k, tA, tB), a, b, c0, alpha, beta, Precision.FP64);
            String id = (batch == 0 ? "rank2" : "b" + batch) + (aShared ? " a-shared" : "") + (bShared ? " b-shared" : "")
                    + " " + m + "x" + n + "x" + k + (tA ? " tA" : "") + (tB ? " tB" : "");
            assertClose(id, want, mem.read(pc, want.length, t));
            if (aShared && batch > 1) {
                assertEquals(0, g.strideB(), "a shared A is cuBLAS's B (operands swap): stride 0 " + id);
            }
            if (bShared && batch > 1) {
                assertEquals(0, g.strideA(), "a shared B is cuBLAS's A: stride 0 " + id);
            }
        }
    }

    private static Shape shape(int batch, boolean shared, int rows, int cols) {
        return batch == 0 ? Shape.of(rows, cols) : Shape.of(shared ? 1 : batch, rows, cols);
    }

    @Test
    void crossEntropyChunkGemmsGiveTheOraclesGradientsWhateverTheChunk() {
        Random r = new Random(13);
        int rows = 11;
        int d = 7;
        int vocab = 13;
        int ignore = -100;
        double[] h = gaussian(r, rows * d);
        double[] w = gaussian(r, vocab * d);
        double[] bias = gaussian(r, vocab);
        double[] dW0 = gaussian(r, vocab * d);
        int[] targets = new int[rows];
        for (int i = 0; i < rows; i++) {
            targets[i] = i % 4 == 3 ? ignore : r.nextInt(vocab);
        }
        double scale = 0.125;
        DType t = DType.F32;
        CrossEntropyOracle.Result want = CrossEntropyOracle.run(h, rows, d, w, vocab, bias, targets, ignore, scale, true,
                dW0, null, Precision.FP64);
        CrossEntropyRequest req = new CrossEntropyRequest(new Fake(Shape.of(rows, d), t), new Fake(Shape.of(vocab, d), t),
                new Fake(Shape.of(vocab), t), new Fake(Shape.of(rows), DType.I32), ignore, (float) scale, true,
                new Fake(Shape.of(vocab, d), t), null, false);
        for (int chunk : new int[] {1, 3, 4, rows}) {
            Memory m = new Memory();
            DevicePointer ph = m.place(h, 2, t);
            DevicePointer pw = m.place(w, 1, t);
            DevicePointer logits = m.place(new double[chunk * vocab], 0, t);
            double[] nan = new double[rows * d];
            Arrays.fill(nan, Double.NaN);
            DevicePointer pdh = m.place(nan, 3, t);
            DevicePointer pdW = m.place(dW0, 4, t);
            double lossSum = 0;
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int c = Math.min(chunk, rows - r0);
                double[] z = m.buffers.get(logits.allocation());
                for (int i = 0; i < c * vocab; i++) {
                    z[i] = bias[i % vocab];   // the engine's broadcast_rows
                }
                List<GemmCall> gemms = CudaLoss.chunkGemms(req, r0, c, ph, pw, logits, logits, pdh, pdW);
                assertEquals(3, gemms.size());
                m.run(gemms.get(0));
                lossSum += softmaxRows(z, c, vocab, Arrays.copyOfRange(targets, r0, r0 + c), ignore, scale);
                m.run(gemms.get(1));
                m.run(gemms.get(2));
            }
            assertEquals(want.lossSum(), lossSum, 1e-12 * rows, "loss, chunks of " + chunk);
            assertClose("dHidden, chunks of " + chunk, want.dHidden(), m.read(pdh, rows * d, t));
            assertClose("dW, chunks of " + chunk, want.dWeight(), m.read(pdW, vocab * d, t));
        }
    }

    /** ce_rows in double: each row's loss returned summed, the gradient written over the logits. */
    private static double softmaxRows(double[] z, int rows, int vocab, int[] targets, int ignore, double scale) {
        double loss = 0;
        for (int row = 0; row < rows; row++) {
            int base = row * vocab;
            if (targets[row] == ignore) {
                Arrays.fill(z, base, base + vocab, 0);
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, z[base + v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(z[base + v] - max);
            }
            double lse = max + Math.log(sum);
            loss += lse - z[base + targets[row]];
            for (int v = 0; v < vocab; v++) {
                double p = Math.exp(z[base + v] - lse);
                z[base + v] = scale * (v == targets[row] ? p - 1 : p);
            }
        }
        return loss;
    }

    @Test
    void rowMajorPlansSwapTheOperandsAndKeepEachTransposeWithItsOperand() {
        DevicePointer a = new DevicePointer("A", 0);
        DevicePointer b = new DevicePointer("B", 0);
        DevicePointer c = new DevicePointer("C", 0);
        // C [4, 6] = A [4, 5] · Bᵀ, B stored [6, 5]
        GemmCall g = GemmCall.rowMajor(4, 6, 5, 1f, a, false, 5, 0, b, true, 5, 0, 0f, c, 6, 0, 1, DType.BF16, DType.F32);
        assertEquals(List.of(true, false, 6, 4, 5, b, 5, a, 5, c, 6),
                List.of(g.transA(), g.transB(), g.m(), g.n(), g.k(), g.a(), g.lda(), g.b(), g.ldb(), g.c(), g.ldc()));
        assertEquals(DType.BF16, g.abType());
        assertEquals(DType.F32, g.cType());
    }

    @Test
    void callsCublasWouldRejectAreRejectedBeforeIt() {
        DevicePointer p = new DevicePointer("P", 0);
        // lda below m for op(A) = A
        assertThrows(IllegalArgumentException.class,
                () -> new GemmCall(false, false, 8, 4, 3, 1f, p, 7, 0, p, 3, 0, 0f, p, 8, 0, 1, DType.F32, DType.F32));
        // ldb below n for op(B) = Bᵀ
        assertThrows(IllegalArgumentException.class,
                () -> new GemmCall(false, true, 8, 4, 3, 1f, p, 8, 0, p, 3, 0, 0f, p, 8, 0, 1, DType.F32, DType.F32));
        // a batch writing every product to one C
        assertThrows(IllegalArgumentException.class,
                () -> new GemmCall(false, false, 8, 4, 3, 1f, p, 8, 0, p, 3, 0, 0f, p, 8, 0, 2, DType.F32, DType.F32));
    }
}
