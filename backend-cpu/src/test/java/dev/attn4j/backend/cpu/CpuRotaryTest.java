package dev.attn4j.backend.cpu;

import dev.attn4j.oracle.HostArrays;
import dev.attn4j.oracle.RotaryOracle;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CPU RotaryPort against the float64 oracle ({@link RotaryOracle}), written from {@link RotaryRequest}'s formula. */
class CpuRotaryTest {
    /** fp32 unit roundoff. */
    static final double U = 0x1p-24;

    /** Which kernels run: the backend's own (vectorised when the Vector API is enabled) or the scalar twin. */
    enum Kernels { BACKEND, SCALAR }

    private CpuEngine engine;
    private Backend backend;
    private WorkerPool scalarPool;
    private RotaryPort scalar;

    @BeforeEach
    void open() {
        engine = new CpuEngine(2);
        backend = Backend.of(engine);
        scalarPool = new WorkerPool(2);
        scalar = new CpuRotary(engine, scalarPool, ScalarRotaryKernels.INSTANCE);
    }

    @AfterEach
    void close() {
        backend.close();
        scalarPool.close();
    }

    /** Shapes {@code [B, S, H, D]} with their rotary dim {@code R}. */
    private static final int[][] SHAPES = {
                {2, 5, 3, 8, 8},        // R = D, odd H
                {2, 5, 3, 10, 6},       // R < D: four features pass through
                {1, 1, 1, 4, 4},        // S = 1
                {1, 1, 3, 2, 2},        // a single pair per head
                {3, 7, 5, 64, 64},      // whole vectors, no tail
                {2, 4, 3, 70, 34},      // R/2 = 17: vector tails in both layouts, 36 pass-through features
                {1, 300, 2, 96, 64},    // several row chunks on two workers
    };

    /** Every shape × layout × scale or not × forward or inverse × twin. */
    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (int[] s : SHAPES) {
            for (RotaryLayout layout : RotaryLayout.values()) {
                for (boolean withScale : new boolean[] {false, true}) {
                    for (boolean inverse : new boolean[] {false, true}) {
                        for (Kernels kernels : Kernels.values()) {
                            all.add(Arguments.of(Shape.of(s[0], s[1], s[2], s[3]), s[4], layout, withScale, inverse, kernels));
                        }
                    }
                }
            }
        }
        return all.stream();
    }

    /** Shape, R, layout, scale or not, forward or inverse. */
    static Stream<Arguments> twinCases() {
        return cases().filter(a -> a.get()[5] == Kernels.BACKEND)
                .map(a -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], a.get()[3], a.get()[4]));
    }

    /** Shape, R, layout, twin. */
    static Stream<Arguments> roundTripCases() {
        return cases().filter(a -> a.get()[3] == Boolean.FALSE && a.get()[4] == Boolean.FALSE)
                .map(a -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], a.get()[5]));
    }

    /** Shape, R, layout, scale or not. */
    static Stream<Arguments> adjointCases() {
        return cases().filter(a -> a.get()[4] == Boolean.FALSE && a.get()[5] == Kernels.BACKEND)
                .map(a -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], a.get()[3]));
    }

    @ParameterizedTest(name = "{0} R={1} {2} scale={3} inverse={4} {5}")
    @MethodSource("cases")
    void matchesTheOracle(Shape shape, int r, RotaryLayout layout, boolean withScale, boolean inverse, Kernels kernels) {
        SplittableRandom rnd = new SplittableRandom(shape.hashCode() * 31L + r);
        Tables t = Tables.of(shape.dim(1), r, withScale, rnd);
        float[] x = random(rnd, shape);
        Pairs ref = new Pairs(shape, r, layout, t);
        double[] want = RotaryOracle.apply(HostArrays.doubles(x), shape.dim(0), shape.dim(1), shape.dim(2), shape.dim(3),
                HostArrays.doubles(t.cos), HostArrays.doubles(t.sin), HostArrays.doubles(t.scale), layout, inverse);

        RotaryPort port = kernels == Kernels.SCALAR ? scalar : backend.rotary();
        float[] got = down(port.apply(request(x, shape, t, layout, inverse)));

        int d = shape.dim(3);
        for (int i = 0; i < got.length; i++) {
            int f = i % d;
            if (f >= r) {
                assertEquals(x[i], got[i], 0.0, "pass-through feature " + f + " at " + i + " must be copied exactly");
            } else {
                double bound = 3.01 * U * ref.magnitude(x, i) + Double.MIN_VALUE;
                double err = Math.abs(got[i] - want[i]);
                if (!(err <= bound)) {
                    fail("element " + i + " (feature " + f + "): got " + got[i] + ", want " + want[i]
                            + ", error " + err + " > bound " + bound);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} R={1} {2} scale={3} inverse={4}")
    @MethodSource("twinCases")
    void vectorTwinMatchesScalarTwinBitForBit(Shape shape, int r, RotaryLayout layout, boolean withScale,
                                              boolean inverse) {
        assumeTrue(Simd.available(), "the Vector API is not enabled in this JVM");
        RotaryPort vectorPort = new CpuRotary(engine, scalarPool, VectorRotaryKernels.create());
        SplittableRandom rnd = new SplittableRandom(shape.hashCode() * 17L + r);
        Tables t = Tables.of(shape.dim(1), r, withScale, rnd);
        float[] x = random(rnd, shape);
        float[] vector = down(vectorPort.apply(request(x, shape, t, layout, inverse)));
        float[] plain = down(scalar.apply(request(x, shape, t, layout, inverse)));
        assertArrayEquals(plain, vector, "the twins evaluate one expression with the same roundings");
    }

    @ParameterizedTest(name = "{0} R={1} {2} {3}")
    @MethodSource("roundTripCases")
    void inverseUndoesForwardWithoutScale(Shape shape, int r, RotaryLayout layout, Kernels kernels) {
        RotaryPort port = kernels == Kernels.SCALAR ? scalar : backend.rotary();
        SplittableRandom rnd = new SplittableRandom(shape.hashCode() + 7L * r);
        Tables t = Tables.of(shape.dim(1), r, false, rnd);
        float[] x = random(rnd, shape);
        float[] rotated = down(port.apply(request(x, shape, t, layout, false)));
        float[] back = down(port.apply(request(rotated, shape, t, layout, true)));
        Pairs ref = new Pairs(shape, r, layout, t);
        int d = shape.dim(3);
        for (int i = 0; i < x.length; i++) {
            if (i % d >= r) {
                assertEquals(x[i], back[i], 0.0, "pass-through at " + i);
            } else {
                // two roundings of ≤ 3u each through a rotation, plus the tables' |cos² + sin² − 1| ≤ 2u
                double bound = 16 * U * ref.pairSize(x, i);
                assertEquals(x[i], back[i], bound, "inverse(forward(x)) at " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0} R={1} {2} scale={3}")
    @MethodSource("adjointCases")
    void inverseIsTheAdjointOfForward(Shape shape, int r, RotaryLayout layout, boolean withScale) {
        SplittableRandom rnd = new SplittableRandom(shape.hashCode() - 3L * r);
        Tables t = Tables.of(shape.dim(1), r, withScale, rnd);
        float[] x = random(rnd, shape);
        float[] y = random(rnd, shape);
        float[] rx = down(backend.rotary().apply(request(x, shape, t, layout, false)));
        float[] rty = down(backend.rotary().apply(request(y, shape, t, layout, true)));
        double lhs = 0;
        double rhs = 0;
        double bound = 0;
        Pairs ref = new Pairs(shape, r, layout, t);
        int d = shape.dim(3);
        for (int i = 0; i < x.length; i++) {
            lhs += (double) rx[i] * y[i];
            rhs += (double) x[i] * rty[i];
            if (i % d < r) {
                // each rotated output carries at most 3u of its pair's magnitude, on both sides
                bound += 3.01 * U * (ref.magnitude(x, i) * Math.abs(y[i]) + Math.abs(x[i]) * ref.magnitude(y, i));
            }
        }
        assertEquals(lhs, rhs, bound + 1e-300, "<R x, y> == <x, Rᵀ y>");
    }

    @Test
    void quarterTurnByHand() {
        // θ = 90°: forward maps the pair (1, 2) to (−2, 1), the inverse to (2, −1); feature 2 passes through.
        float[] x = {1, 2, 5};
        Shape shape = Shape.of(1, 1, 1, 3);
        Tables t = new Tables(new float[] {0}, new float[] {1}, null, 1, 1);
        float[] fwd = down(backend.rotary().apply(request(x, shape, t, RotaryLayout.SPLIT_HALF, false)));
        float[] inv = down(backend.rotary().apply(request(x, shape, t, RotaryLayout.INTERLEAVED, true)));
        assertArrayEquals(new float[] {-2, 1, 5}, fwd);
        assertArrayEquals(new float[] {2, -1, 5}, inv);
    }

    @Test
    void splitHalfPairsAcrossRotaryHalfNotHeadHalf() {
        // R = 4 < D = 8: pairs are (0, 2) and (1, 3), not (0, 4); scale ζ = 2 on pair 1 only.
        float[] x = {1, 10, 100, 1000, 7, 8, 9, 11};
        Shape shape = Shape.of(1, 1, 1, 8);
        Tables t = new Tables(new float[] {0, 0}, new float[] {1, 1}, new float[] {1, 2}, 1, 2);
        float[] y = down(backend.rotary().apply(request(x, shape, t, RotaryLayout.SPLIT_HALF, false)));
        assertArrayEquals(new float[] {-100, -2000, 1, 20, 7, 8, 9, 11}, y);
    }

    @Test
    void throughTheBackendFacade() {
        assertTrue(backend.provides(RotaryCapabilities.class), "cpu declares the rotary port");
        Shape shape = Shape.of(1, 3, 2, 8);
        SplittableRandom rnd = new SplittableRandom(11);
        Tables t = Tables.of(3, 8, true, rnd);
        float[] x = random(rnd, shape);
        DeviceTensor xt = up(x, shape);
        int before = engine.liveTensors();
        DeviceTensor y = backend.rotary().apply(new RotaryRequest(xt, up(t.cos, t.shape()), up(t.sin, t.shape()),
                up(t.scale, t.shape()), RotaryLayout.INTERLEAVED, false));
        assertNotSame(xt, y);
        assertEquals(shape, y.shape());
        assertEquals(DType.F32, y.dtype());
        assertEquals("cpu", y.backendName());
        assertEquals(before + 4, engine.liveTensors(), "three tables uploaded and one result");
        assertArrayEquals(x, backend.tensors().download(xt), "x is not written");

        backend.close();
        assertTrue(y.isClosed(), "closing the backend frees the result");
        assertEquals(0, engine.liveTensors());
    }

    @Test
    void invalidRequestsNameTheArgument() {
        Shape shape = Shape.of(2, 3, 2, 8);
        DeviceTensor x = up(new float[96], shape);
        DeviceTensor table = up(new float[12], Shape.of(3, 4));
        DeviceTensor wrongRows = up(new float[8], Shape.of(2, 4));
        DeviceTensor tooWide = up(new float[15], Shape.of(3, 5));
        DeviceTensor wrongSin = up(new float[9], Shape.of(3, 3));

        assertArgument("cos", () -> new RotaryRequest(x, wrongRows, table, null, RotaryLayout.SPLIT_HALF, false));
        assertArgument("cos", () -> new RotaryRequest(x, tooWide, tooWide, null, RotaryLayout.SPLIT_HALF, false));
        assertArgument("sin", () -> new RotaryRequest(x, table, wrongSin, null, RotaryLayout.SPLIT_HALF, false));
        assertArgument("scale", () -> new RotaryRequest(x, table, table, wrongSin, RotaryLayout.SPLIT_HALF, false));
        assertArgument("layout", () -> new RotaryRequest(x, table, table, null, null, false));

        try (CpuEngine other = new CpuEngine(1)) {
            DeviceTensor foreign = other.tensors().upload(new float[12], Shape.of(3, 4), DType.F32);
            assertArgument("sin", () -> backend.rotary().apply(
                    new RotaryRequest(x, table, foreign, null, RotaryLayout.SPLIT_HALF, false)));
        }
        DeviceTensor closed = up(new float[12], Shape.of(3, 4));
        closed.close();
        assertArgument("scale", () -> backend.rotary().apply(
                new RotaryRequest(x, table, table, closed, RotaryLayout.SPLIT_HALF, false)));
        assertArgument("request", () -> backend.rotary().apply(null));
    }

    @Test
    void rejectedRequestsLeaveNothingBehind() {
        Shape shape = Shape.of(1, 2, 1, 4);
        DeviceTensor x = up(new float[8], shape);
        DeviceTensor table = up(new float[4], Shape.of(2, 2));
        DeviceTensor closed = up(new float[4], Shape.of(2, 2));
        closed.close();
        int before = engine.liveTensors();
        assertThrows(InvalidRequestException.class, () -> backend.rotary().apply(
                new RotaryRequest(x, closed, table, null, RotaryLayout.INTERLEAVED, false)));
        assertEquals(before, engine.liveTensors(), "no output allocated for a rejected request");
        assertFalse(x.isClosed());
    }

    // ---- helpers ----

    private static void assertArgument(String argument, Runnable call) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, call::run);
        assertEquals(argument, e.argument(), e.getMessage());
    }

    private RotaryRequest request(float[] x, Shape shape, Tables t, RotaryLayout layout, boolean inverse) {
        return new RotaryRequest(up(x, shape), up(t.cos, t.shape()), up(t.sin, t.shape()),
                t.scale == null ? null : up(t.scale, t.shape()), layout, inverse);
    }

    private DeviceTensor up(float[] data, Shape shape) {
        return backend.tensors().upload(data, shape, DType.F32);
    }

    private float[] down(DeviceTensor t) {
        try (t) {
            return backend.tensors().download(t);
        }
    }

    private static float[] random(SplittableRandom rnd, Shape shape) {
        float[] a = new float[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /**
     * Small rotary tables, {@code [S, R/2]}: angles {@code n·10000^(−2p/R)} as the common RoPE, and when
     * asked a positive scale per entry (xPos-like values, but any ζ > 0 must work).
     */
    record Tables(float[] cos, float[] sin, float[] scale, int seq, int half) {
        static Tables of(int seq, int r, boolean withScale, SplittableRandom rnd) {
            int half = r / 2;
            float[] cos = new float[seq * half];
            float[] sin = new float[seq * half];
            float[] scale = withScale ? new float[seq * half] : null;
            for (int n = 0; n < seq; n++) {
                for (int p = 0; p < half; p++) {
                    double theta = n * Math.pow(10000, -2.0 * p / r) + (n == 0 ? 0 : rnd.nextDouble(0, 0.1));
                    cos[n * half + p] = (float) Math.cos(theta);
                    sin[n * half + p] = (float) Math.sin(theta);
                    if (withScale) {
                        scale[n * half + p] = (float) rnd.nextDouble(0.5, 2);
                    }
                }
            }
            return new Tables(cos, sin, scale, seq, half);
        }

        Shape shape() {
            return Shape.of(seq, half);
        }
    }

    /** Which features pair up and how large a pair is: the error bounds' inputs (the values come from the oracle). */
    record Pairs(Shape shape, int r, RotaryLayout layout, Tables t) {
        /** {@code ζ·(|x₁·cos| + |x₂·sin|)} (the matching terms for the second member): the scale of feature i's rounding. */
        double magnitude(float[] x, int i) {
            int d = shape.dim(3);
            int f = i % d;
            int p = pair(f);
            int head = i - f;
            int e = position(i) * t.half + p;
            double own = Math.abs(x[i]);
            double partner = Math.abs(x[head + (isFirst(f) ? second(p) : first(p))]);
            double z = t.scale == null ? 1 : t.scale[e];
            return z * (own * Math.abs(t.cos[e]) + partner * Math.abs(t.sin[e]));
        }

        /** {@code |x₁| + |x₂|} of feature i's pair. */
        double pairSize(float[] x, int i) {
            int f = i % shape.dim(3);
            int p = pair(f);
            int head = i - f;
            return Math.abs(x[head + first(p)]) + Math.abs(x[head + second(p)]);
        }

        private int position(int i) {
            return (i / (shape.dim(2) * shape.dim(3))) % shape.dim(1);
        }

        private int pair(int f) {
            return layout == RotaryLayout.INTERLEAVED ? f / 2 : f % (r / 2);
        }

        private boolean isFirst(int f) {
            return layout == RotaryLayout.INTERLEAVED ? f % 2 == 0 : f < r / 2;
        }

        private int first(int p) {
            return layout == RotaryLayout.INTERLEAVED ? 2 * p : p;
        }

        private int second(int p) {
            return layout == RotaryLayout.INTERLEAVED ? 2 * p + 1 : p + r / 2;
        }
    }
}
