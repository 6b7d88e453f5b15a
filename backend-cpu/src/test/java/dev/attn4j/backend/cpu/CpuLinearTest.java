package dev.attn4j.backend.cpu;

import dev.attn4j.oracle.HostArrays;
import dev.attn4j.oracle.LinearOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The CPU linear port against the float64 oracle ({@link LinearOracle}) under PyTorch's pass rule, on views inside
 * NaN-filled storage (a kernel that indexes a view from 0 reads NaN): odd sizes (1, primes, non-multiples of the
 * GEMM's 6 × 64 tiles), both weight layouts, leading dimensions, accumulation into non-zero gradients, every
 * transpose and batch broadcast of matmul; and the same bits on 1, 2 and 3 threads.
 */
class CpuLinearTest {

    private static float[] gauss(long seed, int n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private static void pass(String name, double[] golden, double[] ref, float[] test) {
        PassRule.check(name, golden, ref, test, DType.F32).requirePassed();
    }

    /** {@code [lead..., in]} with {@code rows} = product of the lead. */
    static Stream<Arguments> layers() {
        List<Arguments> all = new ArrayList<>();
        int[][] leads = {{1}, {7}, {3, 11}, {2, 5, 13}};
        int[][] inOut = {{1, 1}, {19, 23}, {67, 130}, {64, 48}, {5, 200}};
        int k = 0;
        for (int[] lead : leads) {
            for (int[] io : inOut) {
                for (WeightLayout layout : WeightLayout.values()) {
                    all.add(Arguments.of(lead, io[0], io[1], layout, k++ % 2 == 0));
                }
            }
        }
        return all.stream();
    }

    private static Shape shape(int[] lead, int last) {
        int[] dims = Arrays.copyOf(lead, lead.length + 1);
        dims[lead.length] = last;
        return Shape.of(dims);
    }

    private static int rows(int[] lead) {
        return Arrays.stream(lead).reduce(1, Math::multiplyExact);
    }

    private static Shape weightShape(WeightLayout layout, int in, int out) {
        return layout == WeightLayout.OUT_IN ? Shape.of(out, in) : Shape.of(in, out);
    }

    @ParameterizedTest(name = "{0} in={1} out={2} {3} bias={4}")
    @MethodSource("layers")
    void forwardAndBackwardMatchTheOracle(int[] lead, int in, int out, WeightLayout layout, boolean withBias) {
        int rows = rows(lead);
        float[] x = gauss(1, rows * in);
        float[] w = gauss(2, in * out);
        float[] b = withBias ? gauss(3, out) : null;
        float[] dy = gauss(4, rows * out);
        float[] dW0 = gauss(5, in * out);
        float[] db0 = withBias ? gauss(6, out) : null;
        double[] xd = HostArrays.doubles(x);
        double[] wd = HostArrays.doubles(w);
        double[] bd = b == null ? null : HostArrays.doubles(b);
        double[] dyd = HostArrays.doubles(dy);
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            DeviceTensor xt = Views.floats(backend, x, shape(lead, in), DType.F32);
            DeviceTensor wt = Views.floats(backend, w, weightShape(layout, in, out), DType.F32);
            DeviceTensor bt = b == null ? null : Views.floats(backend, b, Shape.of(out), DType.F32);
            LinearRequest fwd = new LinearRequest(xt, wt, bt, layout);
            float[] y = backend.tensors().download(backend.linear().forward(fwd));
            pass("y", LinearOracle.forward(xd, rows, in, wd, layout, out, bd, Precision.FP64),
                    LinearOracle.forward(xd, rows, in, wd, layout, out, bd, Precision.FP32), y);

            DeviceTensor dyt = Views.floats(backend, dy, shape(lead, out), DType.F32);
            DeviceTensor dWt = Views.floats(backend, dW0, weightShape(layout, in, out), DType.F32);
            DeviceTensor dbt = b == null ? null : Views.floats(backend, db0, Shape.of(out), DType.F32);
            DeviceTensor dx = backend.linear().backward(new LinearBackwardRequest(fwd, dyt, true, dWt, dbt));
            LinearOracle.Grads golden = LinearOracle.backward(xd, rows, in, wd, layout, out, dyd, true,
                    HostArrays.doubles(dW0), db0 == null ? null : HostArrays.doubles(db0), Precision.FP64);
            LinearOracle.Grads ref = LinearOracle.backward(xd, rows, in, wd, layout, out, dyd, true,
                    HostArrays.doubles(dW0), db0 == null ? null : HostArrays.doubles(db0), Precision.FP32);
            pass("dx", golden.dx(), ref.dx(), backend.tensors().download(dx));
            pass("dW", golden.dWeight(), ref.dWeight(), backend.tensors().download(dWt));
            if (dbt != null) {
                pass("db", golden.dBias(), ref.dBias(), backend.tensors().download(dbt));
            }
        }
    }

    @Test
    void backwardComputesOnlyWhatIsAsked() {
        int rows = 9;
        int in = 17;
        int out = 12;
        float[] x = gauss(11, rows * in);
        float[] w = gauss(12, out * in);
        float[] dy = gauss(13, rows * out);
        float[] db0 = gauss(14, out);
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            DeviceTensor xt = Views.floats(backend, x, Shape.of(rows, in), DType.F32);
            DeviceTensor wt = Views.floats(backend, w, Shape.of(out, in), DType.F32);
            DeviceTensor bt = backend.tensors().zeros(Shape.of(out), DType.F32);
            DeviceTensor dyt = Views.floats(backend, dy, Shape.of(rows, out), DType.F32);
            LinearRequest fwd = LinearRequest.of(xt, wt, bt);
            // A frozen weight and no dx: only the bias gradient, added to what the accumulator held.
            DeviceTensor dbt = Views.floats(backend, db0, Shape.of(out), DType.F32);
            assertNull(backend.linear().backward(new LinearBackwardRequest(fwd, dyt, false, null, dbt)));
            double[] golden = LinearOracle.backward(HostArrays.doubles(x), rows, in, HostArrays.doubles(w),
                    WeightLayout.OUT_IN, out, HostArrays.doubles(dy), false, null, HostArrays.doubles(db0),
                    Precision.FP64).dBias();
            double[] ref = LinearOracle.backward(HostArrays.doubles(x), rows, in, HostArrays.doubles(w),
                    WeightLayout.OUT_IN, out, HostArrays.doubles(dy), false, null, HostArrays.doubles(db0),
                    Precision.FP32).dBias();
            pass("db", golden, ref, backend.tensors().download(dbt));
            // The inputs are untouched.
            assertArrayEquals(x, backend.tensors().download(xt));
            assertArrayEquals(w, backend.tensors().download(wt));
            assertArrayEquals(dy, backend.tensors().download(dyt));
        }
    }

    /** Sizes past the GEMM's serial threshold and several row chunks of the bias sums, so workers do split them. */
    @Test
    void sameBitsOnOneTwoAndThreeThreads() {
        int rows = 301;
        int in = 129;
        int out = 257;
        float[] x = gauss(21, rows * in);
        float[] w = gauss(22, out * in);
        float[] b = gauss(23, out);
        float[] dy = gauss(24, rows * out);
        float[] dW0 = gauss(25, out * in);
        float[] db0 = gauss(26, out);
        java.util.Map<WeightLayout, List<float[]>> first = new java.util.EnumMap<>(WeightLayout.class);
        for (int threads : new int[] {1, 2, 3}) {
            for (WeightLayout layout : WeightLayout.values()) {
                try (Backend backend = Backend.of(new CpuEngine(threads))) {
                    DeviceTensor xt = Views.floats(backend, x, Shape.of(rows, in), DType.F32);
                    DeviceTensor wt = Views.floats(backend, w, weightShape(layout, in, out), DType.F32);
                    DeviceTensor bt = Views.floats(backend, b, Shape.of(out), DType.F32);
                    LinearRequest fwd = new LinearRequest(xt, wt, bt, layout);
                    DeviceTensor dWt = Views.floats(backend, dW0, weightShape(layout, in, out), DType.F32);
                    DeviceTensor dbt = Views.floats(backend, db0, Shape.of(out), DType.F32);
                    List<float[]> got = List.of(backend.tensors().download(backend.linear().forward(fwd)),
                            backend.tensors().download(backend.linear().backward(new LinearBackwardRequest(fwd,
                                    Views.floats(backend, dy, Shape.of(rows, out), DType.F32), true, dWt, dbt))),
                            backend.tensors().download(dWt), backend.tensors().download(dbt));
                    List<float[]> want = first.putIfAbsent(layout, got);
                    if (want != null) {
                        for (int i = 0; i < got.size(); i++) {
                            assertArrayEquals(want.get(i), got.get(i), layout + " output " + i + " (y, dx, dW, db) on "
                                    + threads + " threads");
                        }
                    }
                }
            }
        }
    }

    static Stream<Arguments> products() {
        List<Arguments> all = new ArrayList<>();
        // batch (0 = rank 2), m, n, k, shared A, shared B, alpha, beta
        Object[][] sizes = {
                {0, 1, 1, 1, false, false, 1f, 0f},
                {0, 23, 19, 37, false, false, 1f, 0f},
                {0, 7, 130, 5, false, false, -0.5f, 2f},
                {0, 61, 67, 300, false, false, 1f, 1f},
                {3, 11, 13, 9, false, false, 1f, 0f},
                {4, 6, 65, 17, true, false, 0.75f, -1f},
                {5, 13, 7, 29, false, true, 1f, 0.5f},
                {2, 50, 3, 1, true, true, 2f, 0f},
        };
        for (Object[] s : sizes) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    all.add(Arguments.of(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], ta, tb));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "batch={0} {1}x{2}x{3} sharedA={4} sharedB={5} alpha={6} beta={7} tA={8} tB={9}")
    @MethodSource("products")
    void matmulMatchesTheOracle(int batch, int m, int n, int k, boolean sharedA, boolean sharedB, float alpha,
                                float beta, boolean ta, boolean tb) {
        int bc = Math.max(1, batch);
        int ba = sharedA ? 1 : bc;
        int bb = sharedB ? 1 : bc;
        float[] a = gauss(31, ba * m * k);
        float[] b = gauss(32, bb * k * n);
        float[] c = gauss(33, bc * m * n);
        if (beta == 0f) {
            Arrays.fill(c, Float.NaN);   // beta = 0 must not read C
        }
        Shape aShape = batch == 0 ? (ta ? Shape.of(k, m) : Shape.of(m, k)) : (ta ? Shape.of(ba, k, m) : Shape.of(ba, m, k));
        Shape bShape = batch == 0 ? (tb ? Shape.of(n, k) : Shape.of(k, n)) : (tb ? Shape.of(bb, n, k) : Shape.of(bb, k, n));
        Shape cShape = batch == 0 ? Shape.of(m, n) : Shape.of(bc, m, n);
        LinearOracle.MatmulDims dims = new LinearOracle.MatmulDims(bc, sharedA && bc > 1, sharedB && bc > 1, m, n, k,
                ta, tb);
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            DeviceTensor at = Views.floats(backend, a, aShape, DType.F32);
            DeviceTensor bt = Views.floats(backend, b, bShape, DType.F32);
            DeviceTensor ct = Views.floats(backend, c, cShape, DType.F32);
            backend.linear().matmul(new MatmulRequest(at, ta, bt, tb, ct, alpha, beta));
            double[] cd = HostArrays.doubles(c);
            pass("c", LinearOracle.matmul(dims, HostArrays.doubles(a), HostArrays.doubles(b), cd, alpha, beta,
                            Precision.FP64),
                    LinearOracle.matmul(dims, HostArrays.doubles(a), HostArrays.doubles(b), cd, alpha, beta,
                            Precision.FP32), backend.tensors().download(ct));
        }
    }

    @Test
    void accumulatorsSharingStorageWithInputsAreRejectedBeforeAnythingIsWritten() {
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            DeviceTensor base = backend.tensors().upload(gauss(41, 200), Shape.of(200), DType.F32);
            float[] before = backend.tensors().download(base);
            DeviceTensor x = backend.tensors().view(base, 0, Shape.of(4, 5));
            DeviceTensor w = backend.tensors().upload(gauss(42, 15), Shape.of(3, 5), DType.F32);
            DeviceTensor dy = backend.tensors().upload(gauss(43, 12), Shape.of(4, 3), DType.F32);
            // dW [3, 5] over elements 10..25 of the base, which x [4, 5] (0..20) also holds
            DeviceTensor dW = backend.tensors().view(base, 10, Shape.of(3, 5));
            LinearRequest fwd = LinearRequest.of(x, w, null);
            assertThrows(InvalidRequestException.class,
                    () -> backend.linear().backward(new LinearBackwardRequest(fwd, dy, true, dW, null)));
            assertArrayEquals(before, backend.tensors().download(base));

            DeviceTensor a = backend.tensors().view(base, 100, Shape.of(4, 5));
            DeviceTensor b = backend.tensors().upload(gauss(44, 15), Shape.of(5, 3), DType.F32);
            DeviceTensor c = backend.tensors().view(base, 110, Shape.of(4, 3));
            assertThrows(InvalidRequestException.class, () -> backend.linear().matmul(MatmulRequest.of(a, b, c)));
            assertArrayEquals(before, backend.tensors().download(base));
        }
    }
}
