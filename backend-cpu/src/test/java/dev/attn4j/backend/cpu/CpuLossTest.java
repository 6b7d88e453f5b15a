package dev.attn4j.backend.cpu;

import dev.attn4j.oracle.CrossEntropyOracle;
import dev.attn4j.oracle.HostArrays;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU fused linear cross-entropy against the float64 oracle ({@link CrossEntropyOracle}, whole logit rows, no
 * chunks) under PyTorch's pass rule, on views inside NaN-filled storage: odd sizes (a vocabulary of 1, primes, several
 * vocabulary blocks and ranges), ignored rows, with and without a bias, accumulation into non-zero gradients, every combination of
 * outputs; and the same bits whatever the thread count, the chunk size and the kernel twin; the memory it keeps.
 */
class CpuLossTest {
    private static final int IGNORE = CrossEntropyRequest.IGNORE_INDEX;

    private static float[] gauss(long seed, int n, double sigma) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (sigma * rnd.nextGaussian());
        }
        return x;
    }

    /** Targets in {@code [0, v)}, every {@code ignoreEvery}-th (from the second) the ignore index (0: none). */
    private static int[] targets(long seed, int n, int v, int ignoreEvery) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = ignoreEvery > 0 && i % ignoreEvery == 1 ? IGNORE : rnd.nextInt(v);
        }
        return t;
    }

    private static Shape shape(int[] lead, int last) {
        int[] dims = Arrays.copyOf(lead, lead.length + 1);
        dims[lead.length] = last;
        return Shape.of(dims);
    }

    /** One problem: inputs on the host, uploaded as views. */
    private record Problem(int[] lead, int d, int v, float[] h, float[] w, float[] b, int[] t, float[] dW0, float[] db0,
                           float scale) {

        static Problem random(int[] lead, int d, int v, boolean bias, int ignoreEvery, long seed) {
            int n = Arrays.stream(lead).reduce(1, Math::multiplyExact);
            // Logits of order a few units: a softmax neither flat nor one-hot.
            return new Problem(lead, d, v, gauss(seed, n * d, 1), gauss(seed + 1, v * d, 2 / Math.sqrt(d)),
                    bias ? gauss(seed + 2, v, 1) : null, targets(seed + 3, n, v, ignoreEvery),
                    gauss(seed + 4, v * d, 0.1), bias ? gauss(seed + 5, v, 0.1) : null, 1f / n);
        }

        int rows() {
            return t.length;
        }

        CrossEntropyOracle.Result oracle(boolean inputGrad, boolean weightGrad, boolean biasGrad, Precision p) {
            return CrossEntropyOracle.run(HostArrays.doubles(h), rows(), d, HostArrays.doubles(w), v,
                    b == null ? null : HostArrays.doubles(b), t, IGNORE, scale, inputGrad,
                    weightGrad ? HostArrays.doubles(dW0) : null, biasGrad ? HostArrays.doubles(db0) : null, p);
        }

        /** The request on views; the accumulators are new views holding {@code dW0}/{@code db0}. */
        CrossEntropyRequest request(Backend backend, boolean inputGrad, boolean weightGrad, boolean biasGrad,
                                    boolean perToken) {
            DeviceTensor ht = Views.floats(backend, h, shape(lead, d), DType.F32);
            DeviceTensor wt = Views.floats(backend, w, Shape.of(v, d), DType.F32);
            DeviceTensor bt = b == null ? null : Views.floats(backend, b, Shape.of(v), DType.F32);
            DeviceTensor tt = Views.ints(backend, t, Shape.of(lead), 0);
            DeviceTensor dW = weightGrad ? Views.floats(backend, dW0, Shape.of(v, d), DType.F32) : null;
            DeviceTensor db = biasGrad ? Views.floats(backend, db0, Shape.of(v), DType.F32) : null;
            return new CrossEntropyRequest(ht, wt, bt, tt, IGNORE, scale, inputGrad, dW, db, perToken);
        }
    }

    private static void pass(String name, double[] golden, double[] ref, float[] test) {
        PassRule.check(name, golden, ref, test, DType.F32).requirePassed();
    }

    static Stream<Arguments> problems() {
        List<Arguments> all = new ArrayList<>();
        // lead, d, V, bias, ignore every
        Object[][] sizes = {
                {new int[] {1}, 1, 2, false, 0},
                {new int[] {7}, 5, 150, true, 3},
                {new int[] {3, 13}, 33, 601, true, 4},
                {new int[] {37}, 64, 300, false, 2},
                {new int[] {2, 9}, 17, 1, true, 5},
                {new int[] {41}, 3, 257, true, 0},
                // several vocabulary ranges, each of several blocks (the running maximum rescales dh)
                {new int[] {5}, 8, 2500, true, 3},
                {new int[] {2, 7}, 16, 4200, false, 0},
        };
        int k = 0;
        for (Object[] s : sizes) {
            // inputGrad, weightGrad, biasGrad, perToken: everything, then alternating subsets
            boolean bias = (boolean) s[3];
            all.add(Arguments.of(s[0], s[1], s[2], bias, s[4], true, true, bias, true));
            all.add(Arguments.of(s[0], s[1], s[2], bias, s[4], k % 2 == 0, k % 2 == 1, false, k % 2 == 1));
            all.add(Arguments.of(s[0], s[1], s[2], bias, s[4], false, false, false, false));
            k++;
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} d={1} V={2} bias={3} ignore/{4} dh={5} dW={6} db={7} perToken={8}")
    @MethodSource("problems")
    void matchesTheOracle(int[] lead, int d, int v, boolean bias, int ignoreEvery, boolean inputGrad,
                          boolean weightGrad, boolean biasGrad, boolean perToken) {
        Problem p = Problem.random(lead, d, v, bias, ignoreEvery, 7 * d + v);
        CrossEntropyOracle.Result golden = p.oracle(inputGrad, weightGrad, biasGrad, Precision.FP64);
        CrossEntropyOracle.Result ref = p.oracle(inputGrad, weightGrad, biasGrad, Precision.FP32);
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            CrossEntropyRequest r = p.request(backend, inputGrad, weightGrad, biasGrad, perToken);
            try (CrossEntropyResult out = backend.loss().linearCrossEntropy(r)) {
                pass("lossSum", new double[] {golden.lossSum()}, new double[] {ref.lossSum()},
                        backend.tensors().download(out.lossSum()));
                assertEquals((float) golden.count(), backend.tensors().download(out.count())[0], 0f, "count");
                if (perToken) {
                    pass("perToken", golden.perToken(), ref.perToken(), backend.tensors().download(out.perToken()));
                } else {
                    assertNull(out.perToken());
                }
                if (inputGrad) {
                    pass("dHidden", golden.dHidden(), ref.dHidden(), backend.tensors().download(out.dHidden()));
                } else {
                    assertNull(out.dHidden());
                }
                if (weightGrad) {
                    pass("dW", golden.dWeight(), ref.dWeight(), backend.tensors().download(r.weightGrad()));
                }
                if (biasGrad) {
                    pass("db", golden.dBias(), ref.dBias(), backend.tensors().download(r.biasGrad()));
                }
                // The inputs are untouched.
                assertArrayEquals(p.h(), backend.tensors().download(r.hidden()));
                assertArrayEquals(p.w(), backend.tensors().download(r.weight()));
            }
        }
    }

    /** Every output of one call, downloaded. */
    private static List<float[]> outputs(Backend backend, CrossEntropyRequest r, CrossEntropyResult out) {
        return List.of(backend.tensors().download(out.lossSum()), backend.tensors().download(out.count()),
                backend.tensors().download(out.perToken()), backend.tensors().download(out.dHidden()),
                backend.tensors().download(r.weightGrad()), backend.tensors().download(r.biasGrad()));
    }

    /**
     * The chunk holds the rows in order, the vocabulary blocks are fixed and dW's fma chains continue across chunks,
     * so neither the thread count, nor the chunk size, nor the kernel twin changes a bit.
     */
    @Test
    void sameBitsWhateverTheThreadsTheChunkRowsAndTheTwin() {
        // three vocabulary ranges of several blocks each
        Problem p = Problem.random(new int[] {97}, 16, 3 * CpuLoss.MIN_RANGE_ROWS + 77, true, 4, 99);
        assertEquals(3, CpuLoss.ranges(p.v(), p.d()));
        List<LossKernels> twins = Simd.available() ? List.of(ScalarLossKernels.INSTANCE, VectorLossKernels.create())
                : List.of(ScalarLossKernels.INSTANCE);
        List<float[]> first = null;
        String firstName = null;
        for (int threads : new int[] {1, 2, 3}) {
            for (int rows : new int[] {1, 5, 32, 97}) {
                for (LossKernels twin : twins) {
                    CpuEngine engine = new CpuEngine(threads);
                    try (Backend backend = Backend.of(engine); WorkerPool pool = new WorkerPool(threads)) {
                        CpuLoss loss = new CpuLoss(engine, pool, TileMath.get(), twin, 1, rows);
                        CrossEntropyRequest r = p.request(backend, true, true, true, true);
                        List<float[]> got = outputs(backend, r, loss.linearCrossEntropy(r));
                        String name = threads + " threads, " + rows + " rows per chunk, " + twin.getClass().getSimpleName();
                        if (first == null) {
                            first = got;
                            firstName = name;
                        } else {
                            for (int i = 0; i < got.size(); i++) {
                                assertArrayEquals(first.get(i), got.get(i), "output " + i
                                        + " (loss, count, perToken, dh, dW, db) of " + name + " against " + firstName);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A bias of −∞ bans vocabulary entries (their softmax is 0); over a whole first block of a range the running
     * maximum stays −∞ for a while, where {@code exp(z − m)} would be {@code exp(−∞ + ∞) = NaN}.
     */
    @Test
    void minusInfinityLogitsOverWholeBlocksGiveZeroProbability() {
        int v = 2 * CpuLoss.MIN_RANGE_ROWS + 100;
        Problem p = Problem.random(new int[] {9}, 8, v, true, 0, 11);
        assertEquals(2, CpuLoss.ranges(v, p.d()));
        int banned = CpuLoss.V_BLOCK + 7;   // range 0's first block and a little of its second
        Arrays.fill(p.b(), 0, banned, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < p.t().length; i++) {
            p.t()[i] = banned + Math.floorMod(p.t()[i], v - banned);
        }
        CrossEntropyOracle.Result golden = p.oracle(true, true, true, Precision.FP64);
        CrossEntropyOracle.Result ref = p.oracle(true, true, true, Precision.FP32);
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            CrossEntropyRequest r = p.request(backend, true, true, true, true);
            try (CrossEntropyResult out = backend.loss().linearCrossEntropy(r)) {
                pass("lossSum", new double[] {golden.lossSum()}, new double[] {ref.lossSum()},
                        backend.tensors().download(out.lossSum()));
                pass("perToken", golden.perToken(), ref.perToken(), backend.tensors().download(out.perToken()));
                pass("dHidden", golden.dHidden(), ref.dHidden(), backend.tensors().download(out.dHidden()));
                pass("dW", golden.dWeight(), ref.dWeight(), backend.tensors().download(r.weightGrad()));
                pass("db", golden.dBias(), ref.dBias(), backend.tensors().download(r.biasGrad()));
            }
        }
    }

    @Test
    void evaluationReturnsTheLossOnly() {
        Problem p = Problem.random(new int[] {4, 6}, 12, 90, true, 3, 5);
        CrossEntropyOracle.Result golden = p.oracle(false, false, false, Precision.FP64);
        CrossEntropyOracle.Result ref = p.oracle(false, false, false, Precision.FP32);
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            CrossEntropyRequest full = p.request(backend, false, false, false, false);
            CrossEntropyRequest eval = CrossEntropyRequest.evaluation(full.hidden(), full.weight(), full.bias(),
                    full.targets());
            try (CrossEntropyResult out = backend.loss().linearCrossEntropy(eval)) {
                pass("lossSum", new double[] {golden.lossSum()}, new double[] {ref.lossSum()},
                        backend.tensors().download(out.lossSum()));
                assertEquals(golden.count(), backend.tensors().download(out.count())[0], 0);
                assertNull(out.dHidden());
                assertNull(out.perToken());
            }
        }
    }

    @Test
    void allRowsIgnoredGiveZeroLossAndLeaveTheAccumulators() {
        Problem p = Problem.random(new int[] {6}, 8, 30, true, 0, 3);
        Arrays.fill(p.t(), IGNORE);
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            CrossEntropyRequest r = p.request(backend, true, true, true, true);
            try (CrossEntropyResult out = backend.loss().linearCrossEntropy(r)) {
                assertArrayEquals(new float[] {0f}, backend.tensors().download(out.lossSum()));
                assertArrayEquals(new float[] {0f}, backend.tensors().download(out.count()));
                assertArrayEquals(new float[6], backend.tensors().download(out.perToken()));
                assertArrayEquals(new float[6 * 8], backend.tensors().download(out.dHidden()));
                assertArrayEquals(p.dW0(), backend.tensors().download(r.weightGrad()));
                assertArrayEquals(p.db0(), backend.tensors().download(r.biasGrad()));
            }
        }
    }

    /**
     * The logits never exist whole: what the port keeps is one chunk's, and beside it the ranges' statistics and
     * partial dh and a shift per token and vocabulary block, however many rows the call has.
     */
    @Test
    void keepsOneChunkOfLogitsNotTheWholeBatch() {
        int n = 640;
        int v = 4096;
        int d = 16;
        int rows = 64;
        Problem p = Problem.random(new int[] {n}, d, v, false, 0, 8);
        CpuEngine engine = new CpuEngine(2);
        try (Backend backend = Backend.of(engine); WorkerPool pool = new WorkerPool(2)) {
            CpuLoss loss = new CpuLoss(engine, pool, TileMath.get(), LossKernels.get(), rows * v, CpuLoss.MIN_ROWS);
            CrossEntropyRequest r = p.request(backend, true, true, false, false);
            loss.linearCrossEntropy(r).close();
            long kept = loss.retainedBytes();
            int ranges = CpuLoss.ranges(v, d);
            long chunk = (long) rows * v * Float.BYTES;
            long blocks = (long) ranges * CpuLoss.blocksPerRange(v, ranges) * rows * Float.BYTES;
            // h and hᵀ, target, max, factor, target logit; per range max, weight, sum (a double) and the partial dh;
            // per worker 3 rows
            long small = (long) rows * (2 * d + 5 + ranges * (4 + d) + 2 * 3) * Float.BYTES;
            assertTrue(kept >= chunk && kept <= chunk + blocks + small, "kept " + kept + " bytes for a chunk of "
                    + chunk + " (+ " + blocks + " + " + small + ")");
            assertTrue(kept < (long) n * v * Float.BYTES / 4, "kept " + kept + " bytes");
        }
        // The engine's own port: one chunk of at most CHUNK_FLOATS floats, and the blocks' shifts.
        CpuEngine e = new CpuEngine(2);
        try (Backend backend = Backend.of(e)) {
            Problem big = Problem.random(new int[] {3000}, 4, 2048, false, 0, 9);
            backend.loss().linearCrossEntropy(big.request(backend, true, false, false, false)).close();
            long kept = ((CpuLoss) e.loss()).retainedBytes();
            long chunkRows = Math.min(3000, CpuLoss.CHUNK_FLOATS / 2048);
            int ranges = CpuLoss.ranges(2048, 4);
            long bound = (long) CpuLoss.CHUNK_FLOATS * Float.BYTES
                    + (long) ranges * CpuLoss.blocksPerRange(2048, ranges) * chunkRows * Float.BYTES
                    + chunkRows * 64 * Float.BYTES;
            assertTrue(kept <= bound, "kept " + kept + " bytes, bound " + bound);
        }
    }

    @Test
    void accumulatorsSharingStorageWithInputsAreRejectedBeforeAnythingIsWritten() {
        try (Backend backend = Backend.of(new CpuEngine(2))) {
            int v = 6;
            int d = 4;
            DeviceTensor base = backend.tensors().upload(gauss(1, 2 * v * d, 1), Shape.of(2 * v * d), DType.F32);
            float[] before = backend.tensors().download(base);
            DeviceTensor w = backend.tensors().view(base, 0, Shape.of(v, d));
            DeviceTensor dW = backend.tensors().view(base, d, Shape.of(v, d));   // overlaps w's rows 1..5
            DeviceTensor h = backend.tensors().upload(gauss(2, 3 * d, 1), Shape.of(3, d), DType.F32);
            DeviceTensor t = backend.tensors().uploadInts(new int[] {1, 2, 3}, Shape.of(3));
            assertThrows(InvalidRequestException.class, () -> backend.loss().linearCrossEntropy(
                    CrossEntropyRequest.training(h, w, null, t, 1f, dW, null)));
            assertArrayEquals(before, backend.tensors().download(base));
        }
    }
}
