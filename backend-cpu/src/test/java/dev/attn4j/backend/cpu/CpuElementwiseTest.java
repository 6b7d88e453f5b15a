package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The CPU element-wise port: semantics on small cases in double, aliasing, determinism and the twins. */
class CpuElementwiseTest {
    private Backend backend;

    @BeforeEach
    void open() {
        backend = Backend.of(new CpuEngine(2));
    }

    @AfterEach
    void close() {
        backend.close();
    }

    private static float[] gauss(long seed, int n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private DeviceTensor up(float[] x, int... dims) {
        return backend.tensors().upload(x, Shape.of(dims), DType.F32);
    }

    private float[] down(DeviceTensor t) {
        return backend.tensors().download(t);
    }

    @Test
    void addAxpyAndScaleRoundOnce() {
        float[] a = gauss(1, 37);
        float[] b = gauss(2, 37);
        float alpha = -0.37f;
        float[] sum = down(backend.elementwise().add(new AddRequest(up(a, 37), up(b, 37), alpha)));
        DeviceTensor y = up(a, 37);
        backend.elementwise().axpy(new AxpyRequest(alpha, up(b, 37), y));
        float[] axpy = down(y);
        for (int i = 0; i < 37; i++) {
            // a + alpha·b with one rounding: the double value rounded to float
            float want = (float) (a[i] + (double) alpha * b[i]);
            assertEquals(want, sum[i], 0f, "add " + i);
            assertEquals(want, axpy[i], 0f, "axpy " + i);
        }
        backend.elementwise().scale(new ScaleRequest(y, 4f));
        float[] scaled = down(y);
        for (int i = 0; i < 37; i++) {
            assertEquals(axpy[i] * 4f, scaled[i], 0f);
        }
    }

    @Test
    void axpyOfATensorIntoItselfDoublesIt() {
        float[] a = gauss(3, 3 * WorkerPool.RANGE + 5);
        DeviceTensor x = up(a, a.length);
        DeviceTensor sameElements = backend.tensors().view(x, 0, Shape.of(a.length));
        backend.elementwise().axpy(new AxpyRequest(1f, x, x));
        backend.elementwise().axpy(new AxpyRequest(1f, sameElements, x));
        float[] got = down(x);
        for (int i = 0; i < a.length; i++) {
            assertEquals(4 * a[i], got[i], 0f);
        }
    }

    @Test
    void partlyOverlappingViewsAreRejectedBeforeAnythingIsWritten() {
        float[] a = gauss(4, 40);
        DeviceTensor base = up(a, 40);
        DeviceTensor x = backend.tensors().view(base, 0, Shape.of(20));
        DeviceTensor y = backend.tensors().view(base, 10, Shape.of(20));
        assertThrows(InvalidRequestException.class, () -> backend.elementwise().axpy(new AxpyRequest(1f, x, y)));
        DeviceTensor v = backend.tensors().view(base, 30, Shape.of(4));
        DeviceTensor grad = backend.tensors().view(base, 32, Shape.of(4));
        var fwd = new BroadcastMultiplyRequest(backend.tensors().view(base, 0, Shape.of(5, 4)), v, BroadcastAxis.COLUMNS);
        assertThrows(InvalidRequestException.class, () -> backend.elementwise().multiplyBackward(
                new BroadcastMultiplyBackwardRequest(fwd, up(a.clone(), 5, 4), false, grad)));
        assertArrayEquals(a, down(base), "nothing written");
        // Disjoint views of one array are fine.
        DeviceTensor left = backend.tensors().view(base, 0, Shape.of(20));
        DeviceTensor right = backend.tensors().view(base, 20, Shape.of(20));
        backend.elementwise().axpy(new AxpyRequest(2f, left, right));
        float[] got = down(base);
        for (int i = 0; i < 20; i++) {
            assertEquals(Math.fma(2f, a[i], a[20 + i]), got[20 + i], 0f);
        }
    }

    @ParameterizedTest
    @EnumSource(BroadcastAxis.class)
    void broadcastMultiplyAndItsBackward(BroadcastAxis axis) {
        int rows = 6;
        int cols = 19;
        float[] x = gauss(5, rows * cols);
        float[] dy = gauss(6, rows * cols);
        int len = axis == BroadcastAxis.COLUMNS ? cols : rows;
        float[] v = gauss(7, len);
        float[] g0 = gauss(8, len);
        DeviceTensor xt = up(x, 2, 3, cols);   // [2, 3, C]: rows are all leading dimensions
        DeviceTensor vt = up(v, len);
        DeviceTensor grad = up(g0, len);
        var fwd = new BroadcastMultiplyRequest(xt, vt, axis);
        float[] y = down(backend.elementwise().multiply(fwd));
        float[] dx = down(backend.elementwise().multiplyBackward(
                new BroadcastMultiplyBackwardRequest(fwd, up(dy, 2, 3, cols), true, grad)));
        float[] dv = down(grad);
        double[] want = new double[len];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                float vi = v[axis == BroadcastAxis.COLUMNS ? c : r];
                assertEquals(x[i] * vi, y[i], 0f);
                assertEquals(dy[i] * vi, dx[i], 0f);
                want[axis == BroadcastAxis.COLUMNS ? c : r] += (double) dy[i] * x[i];
            }
        }
        for (int j = 0; j < len; j++) {
            // summed in double, added to the accumulator with one rounding
            assertEquals((float) (g0[j] + want[j]), dv[j], Math.ulp(dv[j]), "vector gradient " + j);
        }
        // A frozen vector: no accumulator; dx only.
        assertArrayEquals(dx, down(backend.elementwise().multiplyBackward(
                new BroadcastMultiplyBackwardRequest(fwd, up(dy, 2, 3, cols), true, null))));
        // Only the vector gradient: no dx.
        assertNull(backend.elementwise().multiplyBackward(
                new BroadcastMultiplyBackwardRequest(fwd, up(dy, 2, 3, cols), false, up(new float[len], len))));
    }

    @ParameterizedTest
    @EnumSource(BroadcastAxis.class)
    void broadcastGradientIsTheSameForAnyThreadCount(BroadcastAxis axis) {
        int rows = 3001;
        int cols = 517;   // several row chunks; 517 = 32·16 + 5 leaves a tail in every row
        float[] x = gauss(9, rows * cols);
        float[] dy = gauss(10, rows * cols);
        int len = axis == BroadcastAxis.COLUMNS ? cols : rows;
        float[] first = null;
        for (int threads : new int[] {1, 2, 3}) {
            try (Backend b = Backend.of(new CpuEngine(threads))) {
                DeviceTensor grad = b.tensors().upload(new float[len], Shape.of(len), DType.F32);
                var fwd = new BroadcastMultiplyRequest(b.tensors().upload(x, Shape.of(rows, cols), DType.F32),
                        b.tensors().upload(gauss(11, len), Shape.of(len), DType.F32), axis);
                b.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(fwd,
                        b.tensors().upload(dy, Shape.of(rows, cols), DType.F32), false, grad));
                float[] got = b.tensors().download(grad);
                if (first == null) {
                    first = got;
                } else {
                    assertArrayEquals(first, got, axis + " with " + threads + " threads");
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------- token shift

    /** The rule of {@code TokenShiftRequest}, element by element. */
    private static float[] shifted(float[] x, int b, int s, int c, int begin, int count, long amount, int[] seg) {
        float[] y = x.clone();
        for (int bb = 0; bb < b; bb++) {
            for (int t = 0; t < s; t++) {
                long src = t - amount;
                boolean ok = src >= 0 && src < s
                        && (seg == null || seg[bb * s + t] >= 0 && seg[bb * s + (int) src] == seg[bb * s + t]);
                for (int f = begin; f < begin + count; f++) {
                    y[(bb * s + t) * c + f] = ok ? x[(bb * s + (int) src) * c + f] : 0f;
                }
            }
        }
        return y;
    }

    @ParameterizedTest(name = "amount = {0}")
    @ValueSource(ints = {1, 2, -1, -3, 0, 7, Integer.MAX_VALUE, -Integer.MAX_VALUE})
    void tokenShiftPerDocument(int amount) {
        int b = 2, s = 7, c = 6;
        float[] x = gauss(12, b * s * c);
        // row 0: documents 4,4,4 | 9,9 | padding ×2; row 1: one document
        int[] seg = {4, 4, 4, 9, 9, -1, -1, 0, 0, 0, 0, 0, 0, 0};
        DeviceTensor segments = backend.tensors().uploadInts(seg, Shape.of(b, s));
        DeviceTensor xt = up(x, b, s, c);
        for (int[] features : new int[][] {{3, 3}, {0, 6}, {2, 1}}) {
            var req = new TokenShiftRequest(xt, features[0], features[1], amount, segments);
            assertArrayEquals(shifted(x, b, s, c, features[0], features[1], amount, seg), down(backend.elementwise()
                    .shiftTokens(req)), "segments, features " + Arrays.toString(features));
            var noSeg = new TokenShiftRequest(xt, features[0], features[1], amount, null);
            assertArrayEquals(shifted(x, b, s, c, features[0], features[1], amount, null),
                    down(backend.elementwise().shiftTokens(noSeg)), "one document per row");
        }
    }

    @Test
    void tokenShiftBackwardIsTheTranspose() {
        // <shift(x), dy> = <x, shift⁻¹(dy)> for any x, dy: the backward moves gradients back where values came from.
        int b = 2, s = 9, c = 5;
        int[] seg = {1, 1, 1, 2, 2, 2, 2, -1, -1, 3, 3, 3, 3, 3, 3, 3, 3, 3};
        DeviceTensor segments = backend.tensors().uploadInts(seg, Shape.of(b, s));
        float[] x = gauss(13, b * s * c);
        float[] dy = gauss(14, b * s * c);
        var fwd = new TokenShiftRequest(up(x, b, s, c), 1, 3, 2, segments);
        float[] y = down(backend.elementwise().shiftTokens(fwd));
        float[] dx = down(backend.elementwise().shiftTokens(fwd.backward(up(dy, b, s, c))));
        double left = 0;
        double right = 0;
        for (int i = 0; i < x.length; i++) {
            left += (double) y[i] * dy[i];
            right += (double) x[i] * dx[i];
        }
        assertEquals(left, right, 1e-12 * Math.max(1, Math.abs(left)));
    }

    @Test
    void tokenShiftOnViewsWithManyRows() {
        int b = 3, s = 2000, c = 40;
        float[] x = gauss(15, b * s * c);
        int[] seg = new int[b * s];
        for (int i = 0; i < seg.length; i++) {
            seg[i] = i / 37;   // documents of 37 tokens running across rows
        }
        float[] want = shifted(x, b, s, c, 10, 20, 1, seg);
        for (int threads : new int[] {1, 3}) {
            try (Backend bk = Backend.of(new CpuEngine(threads))) {
                DeviceTensor xv = Views.floats(bk, x, Shape.of(b, s, c), DType.F32);
                DeviceTensor sv = Views.ints(bk, seg, Shape.of(b, s), 5);
                assertArrayEquals(want, bk.tensors().download(bk.elementwise().shiftTokens(
                        new TokenShiftRequest(xv, 10, 20, 1, sv))), threads + " threads");
            }
        }
    }


}
