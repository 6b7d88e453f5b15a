package dev.attn4j.backend.cuda;

import dev.attn4j.oracle.CrossEntropyOracle;
import dev.attn4j.oracle.LinearOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The model ports on a real GPU (skipped with the probe's reason elsewhere), for what the conformance suite's small
 * rows do not show: cuBLAS loads and linear/loss are declared; sizes where cuBLAS picks tensor-core and split-K
 * kernels still meet the oracle's pass rule; every op is bit-identical run to run; AdamW takes the cpu backend's fp32
 * steps bit for bit; device memory returns to its baseline over open/close cycles with the new ops.
 */
class CudaModelPortsGpuTest {
    private static Availability availability;

    @BeforeAll
    static void probe() {
        availability = new CudaBackendProvider().probe();
    }

    /**
     * With {@code -Dattn4j.cuda.gpuTests=emulation} the tests that need no driver of their own run on the host
     * emulation instead (slowly), which checks the tests themselves before a GPU runs them.
     */
    private static final boolean EMULATION = "emulation".equals(System.getProperty("attn4j.cuda.gpuTests"));

    private static Backend open(Map<String, String> options) {
        if (EMULATION) {
            String why = EmulatedCuda.unavailable();
            assumeTrue(why == null, why);
            return EmulatedCuda.open(Integer.parseInt(options.getOrDefault("lossChunkRows", "0")));
        }
        assumeTrue(availability.available(), availability.reason());
        return Backend.of(new CudaBackendProvider().open(BackendOptions.of(options)));
    }

    /** Normal values of {@code scale}, rounded to {@code t} (what an upload of them stores). */
    private static float[] gaussian(Random r, int n, double scale, DType t) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            float x = (float) (scale * r.nextGaussian());
            v[i] = t == DType.F32 ? x : HalfFloats.from(t, HalfFloats.to(t, x));
        }
        return v;
    }

    private static double[] wide(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    @Test
    void cublasLoadsAndLinearAndLossAreDeclared() {
        assumeTrue(!EMULATION, "the emulation has no cuBLAS");
        try (Backend cuda = open(Map.of())) {
            assertTrue(cuda.capabilities().port(LinearCapabilities.class).isPresent()
                    && cuda.capabilities().port(LossCapabilities.class).isPresent(), "devices: " + cuda.devices());
            assertTrue(cuda.devices().getFirst().contains("cuBLAS"), cuda.devices().toString());
        }
    }

    @Test
    void largeLinearLayersMeetThePassRule() {
        for (DType t : List.of(DType.BF16, DType.F16, DType.F32)) {
            int rows = 192;
            int in = 1536;
            int out = 320;
            Random r = new Random(7);
            float[] x = gaussian(r, rows * in, 1, t);
            float[] w = gaussian(r, out * in, 1 / Math.sqrt(in), t);
            float[] b = gaussian(r, out, 0.5, t);
            float[] dy = gaussian(r, rows * out, 1, t);
            float[] dW0 = gaussian(r, out * in, 0.5, t);
            Precision ref = Precision.of(t);
            try (Backend cuda = open(Map.of())) {
                DeviceTensor xt = cuda.tensors().upload(x, Shape.of(rows, in), t);
                DeviceTensor wt = cuda.tensors().upload(w, Shape.of(out, in), t);
                DeviceTensor bt = cuda.tensors().upload(b, Shape.of(out), t);
                LinearRequest fwd = new LinearRequest(xt, wt, bt, WeightLayout.OUT_IN);
                PassRule.check("y " + t, LinearOracle.forward(wide(x), rows, in, wide(w), WeightLayout.OUT_IN, out, wide(b),
                        Precision.FP64), LinearOracle.forward(wide(x), rows, in, wide(w), WeightLayout.OUT_IN, out, wide(b),
                        ref), cuda.tensors().download(cuda.linear().forward(fwd)), t).requirePassed();
                DeviceTensor dWt = cuda.tensors().upload(dW0, Shape.of(out, in), t);
                DeviceTensor dx = cuda.linear().backward(new LinearBackwardRequest(fwd, cuda.tensors().upload(dy,
                        Shape.of(rows, out), t), true, dWt, null));
                LinearOracle.Grads golden = LinearOracle.backward(wide(x), rows, in, wide(w), WeightLayout.OUT_IN, out,
                        wide(dy), true, wide(dW0), null, Precision.FP64);
                LinearOracle.Grads naive = LinearOracle.backward(wide(x), rows, in, wide(w), WeightLayout.OUT_IN, out,
                        wide(dy), true, wide(dW0), null, ref);
                PassRule.check("dx " + t, golden.dx(), naive.dx(), cuda.tensors().download(dx), t).requirePassed();
                PassRule.check("dW " + t, golden.dWeight(), naive.dWeight(), cuda.tensors().download(dWt), t)
                        .requirePassed();
            }
        }
    }

    @Test
    void chunkedCrossEntropyOverALargeVocabularyMeetsThePassRule() {
        int rows = 48;
        int d = 96;
        int vocab = 5003;
        Random r = new Random(8);
        for (DType t : List.of(DType.F32, DType.BF16)) {
            float[] h = gaussian(r, rows * d, 1, t);
            float[] w = gaussian(r, vocab * d, 2 / Math.sqrt(d), t);
            float[] b = gaussian(r, vocab, 0.5, t);
            float[] dW0 = gaussian(r, vocab * d, 0.5, t);
            int[] targets = new int[rows];
            for (int i = 0; i < rows; i++) {
                targets[i] = i % 5 == 4 ? -100 : r.nextInt(vocab);
            }
            Precision ref = Precision.of(t);
            CrossEntropyOracle.Result golden = CrossEntropyOracle.run(wide(h), rows, d, wide(w), vocab, wide(b), targets,
                    -100, 1.0 / rows, true, wide(dW0), null, Precision.FP64);
            CrossEntropyOracle.Result naive = CrossEntropyOracle.run(wide(h), rows, d, wide(w), vocab, wide(b), targets,
                    -100, 1.0 / rows, true, wide(dW0), null, ref);
            // chunks of 10 rows: five chunks, the last one short
            try (Backend cuda = open(Map.of("lossChunkRows", "10"))) {
                DeviceTensor dW = cuda.tensors().upload(dW0, Shape.of(vocab, d), t);
                CrossEntropyRequest ce = CrossEntropyRequest.training(cuda.tensors().upload(h, Shape.of(rows, d), t),
                        cuda.tensors().upload(w, Shape.of(vocab, d), t), cuda.tensors().upload(b, Shape.of(vocab), t),
                        cuda.tensors().uploadInts(targets, Shape.of(rows)), 1f / rows, dW, null).withPerTokenLoss();
                try (CrossEntropyResult res = cuda.loss().linearCrossEntropy(ce)) {
                    PassRule.check("loss " + t, new double[] {golden.lossSum()}, new double[] {naive.lossSum()},
                            cuda.tensors().download(res.lossSum()), t).requirePassed();
                    PassRule.check("perToken " + t, golden.perToken(), naive.perToken(),
                            cuda.tensors().download(res.perToken()), t).requirePassed();
                    PassRule.check("dHidden " + t, golden.dHidden(), naive.dHidden(), cuda.tensors().download(res.dHidden()),
                            t).requirePassed();
                    PassRule.check("dW " + t, golden.dWeight(), naive.dWeight(), cuda.tensors().download(dW), t)
                            .requirePassed();
                }
            }
        }
    }

    @Test
    void modelOpsAreBitIdenticalRunToRun() {
        try (Backend cuda = open(Map.of())) {
            List<float[]> first = deterministicRun(cuda);
            List<float[]> second = deterministicRun(cuda);
            for (int i = 0; i < first.size(); i++) {
                assertArrayEquals(first.get(i), second.get(i), "output " + i + " differs between two runs");
            }
        }
    }

    /** Linear backward, cross-entropy, embedding backward, sum of squares, broadcast backward: every output. */
    private static List<float[]> deterministicRun(Backend cuda) {
        Random r = new Random(9);
        DType t = DType.BF16;
        List<float[]> out = new ArrayList<>();
        DeviceTensor x = cuda.tensors().upload(gaussian(r, 2048 * 512, 1, t), Shape.of(2048, 512), t);
        DeviceTensor w = cuda.tensors().upload(gaussian(r, 1024 * 512, 0.05, t), Shape.of(1024, 512), t);
        DeviceTensor b = cuda.tensors().upload(gaussian(r, 1024, 0.5, t), Shape.of(1024), t);
        DeviceTensor dy = cuda.tensors().upload(gaussian(r, 2048 * 1024, 1, t), Shape.of(2048, 1024), t);
        DeviceTensor dW = cuda.tensors().zeros(Shape.of(1024, 512), t);
        DeviceTensor db = cuda.tensors().zeros(Shape.of(1024), t);
        try (DeviceTensor dx = cuda.linear().backward(new LinearBackwardRequest(LinearRequest.of(x, w, b), dy, true, dW,
                db))) {
            out.add(cuda.tensors().download(dx));
        }
        out.add(cuda.tensors().download(dW));
        out.add(cuda.tensors().download(db));
        int[] targets = new int[2048];
        int[] ids = new int[2048];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = i % 9 == 0 ? -100 : r.nextInt(1024);
            ids[i] = r.nextInt(64);   // many repeats: long runs per id
        }
        DeviceTensor dWce = cuda.tensors().zeros(Shape.of(1024, 512), t);
        try (CrossEntropyResult ce = cuda.loss().linearCrossEntropy(CrossEntropyRequest.training(x, w, b,
                cuda.tensors().uploadInts(targets, Shape.of(2048)), 1f / 2048, dWce, null))) {
            out.add(cuda.tensors().download(ce.lossSum()));
            out.add(cuda.tensors().download(ce.dHidden()));
        }
        out.add(cuda.tensors().download(dWce));
        DeviceTensor table = cuda.tensors().zeros(Shape.of(64, 512), t);
        DeviceTensor dTable = cuda.tensors().zeros(Shape.of(64, 512), t);
        cuda.embedding().backward(new EmbeddingBackwardRequest(new EmbeddingRequest(table,
                cuda.tensors().uploadInts(ids, Shape.of(2048))), x, dTable));
        out.add(cuda.tensors().download(dTable));
        DeviceTensor ss = cuda.tensors().zeros(Shape.of(1), DType.F32);
        cuda.optimizer().sumOfSquares(new SumOfSquaresRequest(dy, ss));
        out.add(cuda.tensors().download(ss));
        DeviceTensor dv = cuda.tensors().zeros(Shape.of(512), t);
        cuda.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(new BroadcastMultiplyRequest(x,
                cuda.tensors().zeros(Shape.of(512), t), BroadcastAxis.COLUMNS), x, false, dv));
        out.add(cuda.tensors().download(dv));
        return out;
    }

    @Test
    void adamWTakesTheCpuBackendsFp32StepsBitForBit() {
        int n = 100_003;
        Random r = new Random(10);
        float[] p = gaussian(r, n, 1, DType.F32);
        float[] g = gaussian(r, n, 1, DType.F32);
        float[] m = gaussian(r, n, 0.1, DType.F32);
        float[] v = gaussian(r, n, 0.1, DType.F32);
        for (int i = 0; i < n; i++) {
            v[i] = Math.abs(v[i]);
        }
        try (Backend cuda = open(Map.of())) {
            Shape s = Shape.of(n);
            DeviceTensor pt = cuda.tensors().upload(p, s, DType.F32);
            DeviceTensor gt = cuda.tensors().upload(g, s, DType.F32);
            DeviceTensor mt = cuda.tensors().upload(m, s, DType.F32);
            DeviceTensor vt = cuda.tensors().upload(v, s, DType.F32);
            DeviceTensor ss = cuda.tensors().upload(new float[] {1.0e5f}, Shape.of(1), DType.F32);
            AdamWRequest step = new AdamWRequest(pt, gt, mt, vt, 7, 2e-3f, 0.9f, 0.98f, 1e-6f, 0.05f,
                    new GradientClip(5f, ss));
            cuda.optimizer().adamW(step);
            // the cpu backend's sequence (ScalarElementwiseKernels.adamWFrom with CpuOptimizer's constants)
            Object[] k = CudaOptimizer.adamWArgs(step, DevicePointer.NULL, DevicePointer.NULL, DevicePointer.NULL,
                    DevicePointer.NULL, DevicePointer.NULL);
            float clip = Math.min(1f, 5f / ((float) Math.sqrt(1.0e5f) + 1e-6f));
            float decay = (float) k[8];
            for (int i = 0; i < n; i++) {
                float grad = g[i] * clip;
                float param = p[i] * decay;
                float mi = Math.fma((float) k[10], grad, (float) k[9] * m[i]);
                float vi = Math.fma((float) k[12] * grad, grad, (float) k[11] * v[i]);
                float denom = (float) Math.sqrt(vi) / (float) k[14] + (float) k[15];
                p[i] = Math.fma((float) k[13], mi / denom, param);
                m[i] = mi;
                v[i] = vi;
            }
            assertArrayEquals(p, cuda.tensors().download(pt));
            assertArrayEquals(m, cuda.tensors().download(mt));
            assertArrayEquals(v, cuda.tensors().download(vt));
        }
    }

    @Test
    void deviceMemoryReturnsToItsBaselineAfterOpenCloseCyclesWithTheModelOps() {
        assumeTrue(!EMULATION, "device memory is the GPU's");
        assumeTrue(availability.available(), availability.reason());
        CudaBackendProvider provider = new CudaBackendProvider();
        try (Context held = Context.open(0)) {
            cycle(provider);   // warm-up: first-load costs (cuBLAS's own) are not leaks
            long baseline = freeMemory(held);
            for (int i = 0; i < 20; i++) {
                cycle(provider);
            }
            long leaked = baseline - freeMemory(held);
            assertTrue(leaked <= 8L << 20, "free device memory fell by " + (leaked >> 20) + " MiB over 20 cycles");
        }
    }

    /** One backend opened, used by the new ops with outputs left open, and closed. */
    private static void cycle(CudaBackendProvider provider) {
        try (Backend cuda = Backend.of(provider.open(BackendOptions.none()))) {
            Random r = new Random(1);
            DType t = DType.BF16;
            DeviceTensor x = cuda.tensors().upload(gaussian(r, 256 * 128, 1, t), Shape.of(256, 128), t);
            DeviceTensor w = cuda.tensors().upload(gaussian(r, 512 * 128, 0.1, t), Shape.of(512, 128), t);
            LinearRequest fwd = LinearRequest.of(x, w, null);
            DeviceTensor y = cuda.linear().forward(fwd);
            cuda.linear().backward(new LinearBackwardRequest(fwd, y, true, cuda.tensors().zeros(Shape.of(512, 128), t),
                    null));
            cuda.loss().linearCrossEntropy(CrossEntropyRequest.training(x, w, null,
                    cuda.tensors().uploadInts(new int[256], Shape.of(256)), 1f, null, null));
            cuda.embedding().backward(new EmbeddingBackwardRequest(new EmbeddingRequest(w,
                    cuda.tensors().uploadInts(new int[256], Shape.of(256))), x, cuda.tensors().zeros(Shape.of(512, 128), t)));
        }
    }

    private static long freeMemory(Context context) {
        context.makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        Driver.check(jcuda.driver.JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }
}
