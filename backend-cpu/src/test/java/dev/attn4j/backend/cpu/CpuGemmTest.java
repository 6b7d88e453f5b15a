package dev.attn4j.backend.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link CpuGemm} against two references kept here: a float64 sum with the fp32 error bound of a length-k
 * fma chain (catches wrong semantics), and the fp32 fma chain itself, in index order, which the blocked GEMM
 * must reproduce bit for bit whatever its blocking, partition, thread count or twin (catches any indexing
 * slip, however small its effect); for the dot-product path (few rows, B transposed) the reference is that
 * path's own documented order of {@link TileMath#LANES} slots. Both twins run; C sits inside a larger array whose other elements must
 * stay untouched.
 */
class CpuGemmTest {
    /** Marks every element outside C's region. */
    private static final float GUARD = 1234.5f;
    /** fp32 unit roundoff. */
    private static final double U = 0x1p-24;

    static Stream<Arguments> shapes() {
        return Stream.of(
                // m, n, k: ones, primes, not multiples of 6 / 16 / 64, k = 1, and each crossing one block bound
                Arguments.of(1, 1, 1),
                Arguments.of(1, 17, 1),
                Arguments.of(7, 13, 5),
                Arguments.of(6, 64, 16),
                Arguments.of(5, 63, 17),
                Arguments.of(13, 129, 1),
                Arguments.of(37, 131, 7),
                Arguments.of(200, 8, 33),
                Arguments.of(CpuGemm.MC + 7, 65, 31),
                Arguments.of(CpuGemm.MC_T + 7, 65, 31),
                Arguments.of(11, 47, CpuGemm.KC + 3),
                Arguments.of(3, CpuGemm.NC + 21, 5),
                // the dot-product path's limits: its most rows (parallel with two workers), one more (blocked)
                Arguments.of(CpuGemm.DOT_MAX_ROWS, 2051, 37),
                Arguments.of(CpuGemm.DOT_MAX_ROWS + 1, 67, 35));
    }

    /** (alpha, beta) pairs: plain, accumulate, general, beta = 0 over NaN, alpha = 0, negative zero beta. */
    private static final float[][] SCALARS = {{1f, 0f}, {1f, 1f}, {-0.75f, 2.5f}, {2f, 0f}, {0f, 0.5f}, {0f, 0f},
            {1.5f, -0f}};

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @MethodSource("shapes")
    void everyTransposeAndScalingMatchesBothReferences(int m, int n, int k) {
        for (TileMath math : twins()) {
            // One worker computes every item itself; two split narrow products into single-panel column chunks.
            for (int threads = 1; threads <= 2; threads++) {
                try (WorkerPool pool = new WorkerPool(threads)) {
                    CpuGemm gemm = new CpuGemm(pool, math);
                    for (int t = 0; t < 4; t++) {
                        for (float[] s : SCALARS) {
                            Case c = new Case(t >= 2, (t & 1) == 1, m, n, k, s[0], s[1], 31L * m + 7L * n + k + t);
                            c.run(gemm);
                            c.check(math.getClass().getSimpleName() + ", " + threads + " threads");
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @MethodSource("parallelShapes")
    void bitIdenticalAcrossThreadCountsAndTwins(int m, int n, int k) {
        for (int t = 0; t < 4; t++) {
            float[] first = null;
            for (TileMath math : twins()) {
                for (int threads = 1; threads <= 3; threads++) {
                    Case c = new Case(t >= 2, (t & 1) == 1, m, n, k, 0.5f, 1f, 99 + t);
                    try (WorkerPool pool = new WorkerPool(threads)) {
                        c.run(new CpuGemm(pool, math));
                    }
                    if (first == null) {
                        first = c.c;
                        c.check(math.getClass().getSimpleName());
                    } else {
                        int count = threads;
                        assertArrayEquals(first, c.c, () -> "transpose " + c.transA + "/" + c.transB + ", "
                                + count + " threads, " + math.getClass().getSimpleName() + " differ");
                    }
                }
            }
        }
    }

    static Stream<Arguments> parallelShapes() {
        return Stream.of(
                Arguments.of(301, 257, CpuGemm.KC + 77),   // several row blocks and reduction blocks
                Arguments.of(7, 3000, 40),                  // one row block: split into column chunks
                Arguments.of(1000, 20, 100),                // a single ragged panel, many row blocks
                Arguments.of(2, 3001, 129));                // dot products (when B is transposed), in chunks
    }

    @Test
    void stridedBatchEqualsTheEntriesOneByOne() {
        // Small entries run one per worker, large ones each on all workers; B shared (stride 0) in one of them.
        int[][] configs = {{5, 9, 20, 11, 1}, {4, 70, 90, 600, 0}, {3, 130, 70, 200, 1}};
        for (TileMath math : twins()) {
            for (int[] cfg : configs) {
                int batch = cfg[0];
                int m = cfg[1];
                int n = cfg[2];
                int k = cfg[3];
                boolean shareB = cfg[4] == 0;
                for (int threads = 1; threads <= 2; threads++) {
                    try (WorkerPool pool = new WorkerPool(threads)) {
                        CpuGemm gemm = new CpuGemm(pool, math);
                        SplittableRandom rnd = new SplittableRandom(batch * 1000L + m);
                        int lda = k + 2;
                        int ldb = n + 1;
                        int ldc = n + 3;
                        long strideA = (long) m * lda + 5;
                        long strideB = shareB ? 0 : (long) k * ldb + 9;
                        long strideC = (long) m * ldc + 4;
                        float[] a = random(rnd, (int) (3 + batch * strideA));
                        float[] b = random(rnd, (int) (2 + (shareB ? k * ldb : batch * strideB)));
                        float[] c = random(rnd, (int) (1 + batch * strideC));
                        float[] expected = c.clone();
                        for (int e = 0; e < batch; e++) {
                            gemm.gemm(false, false, m, n, k, 0.5f, a, (int) (3 + e * strideA), lda, b,
                                    (int) (2 + e * strideB), ldb, -1f, expected, (int) (1 + e * strideC), ldc);
                        }
                        gemm.gemmBatched(false, false, m, n, k, 0.5f, a, 3, lda, b, 2, ldb, -1f, c, 1, ldc,
                                batch, strideA, strideB, strideC);
                        assertArrayEquals(expected, c, "batch " + batch + " of " + m + "x" + n + "x" + k
                                + ", " + threads + " threads, " + math.getClass().getSimpleName());
                    }
                }
            }
        }
    }

    @Test
    void stridedBatchIsCheckedAgainstTheReferences() {
        int batch = 3;
        int m = 9;
        int n = 21;
        int k = 13;
        try (WorkerPool pool = new WorkerPool(2)) {
            CpuGemm gemm = new CpuGemm(pool, TileMath.get());
            SplittableRandom rnd = new SplittableRandom(3);
            // Transposed A and B, each entry its own block: stored A is k×m, B is n×k.
            float[] a = random(rnd, batch * k * m);
            float[] b = random(rnd, batch * n * k);
            float[] c = new float[batch * m * n];
            Arrays.fill(c, Float.NaN);
            gemm.gemmBatched(true, true, m, n, k, 1f, a, 0, m, b, 0, k, 0f, c, 0, n, batch, (long) k * m,
                    (long) n * k, (long) m * n);
            for (int e = 0; e < batch; e++) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0;
                        double abs = 0;
                        for (int p = 0; p < k; p++) {
                            double t = (double) a[e * k * m + p * m + i] * b[e * n * k + j * k + p];
                            sum += t;
                            abs += Math.abs(t);
                        }
                        assertEquals(sum, c[e * m * n + i * n + j], 2 * (k + 2) * U * abs,
                                "entry " + e + " C[" + i + "][" + j + "]");
                    }
                }
            }
        }
    }

    @Test
    void linearLayerProductsAsInTheClassExample() {
        int m = 37;
        int n = 29;
        int k = 19;
        SplittableRandom rnd = new SplittableRandom(11);
        float[] x = random(rnd, m * k);
        float[] w = random(rnd, n * k);
        float[] dy = random(rnd, m * n);
        float[] dw0 = random(rnd, n * k);
        float[] y = new float[m * n];
        float[] dx = new float[m * k];
        float[] dw = dw0.clone();
        try (WorkerPool pool = new WorkerPool(2)) {
            CpuGemm gemm = new CpuGemm(pool, TileMath.get());
            gemm.gemm(false, true, m, n, k, 1f, x, 0, k, w, 0, k, 0f, y, 0, n);
            gemm.gemm(false, false, m, k, n, 1f, dy, 0, n, w, 0, k, 0f, dx, 0, k);
            gemm.gemm(true, false, n, k, m, 1f, dy, 0, n, x, 0, k, 1f, dw, 0, k);
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double abs = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) x[i * k + p] * w[j * k + p];
                    abs += Math.abs((double) x[i * k + p] * w[j * k + p]);
                }
                assertEquals(sum, y[i * n + j], 2 * (k + 2) * U * abs, "y[" + i + "][" + j + "]");
            }
            for (int j = 0; j < k; j++) {
                double sum = 0;
                double abs = 0;
                for (int p = 0; p < n; p++) {
                    sum += (double) dy[i * n + p] * w[p * k + j];
                    abs += Math.abs((double) dy[i * n + p] * w[p * k + j]);
                }
                assertEquals(sum, dx[i * k + j], 2 * (n + 2) * U * abs, "dx[" + i + "][" + j + "]");
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                double sum = dw0[i * k + j];
                double abs = Math.abs(sum);
                for (int p = 0; p < m; p++) {
                    sum += (double) dy[p * n + i] * x[p * k + j];
                    abs += Math.abs((double) dy[p * n + i] * x[p * k + j]);
                }
                assertEquals(sum, dw[i * k + j], 2 * (m + 2) * U * abs, "dW[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void largeReductionCountsTheFlopsInLong() {
        // m·n·k = 2^31 + ...: the serial/parallel decision must not overflow into a negative count.
        int m = 1300;
        int n = 1300;
        int k = 1300;
        assertTrue((long) m * n * k > Integer.MAX_VALUE);
        Case one;
        try (WorkerPool pool = new WorkerPool(1)) {
            one = new Case(false, true, m, n, k, 1f, 0f, 5);
            one.run(new CpuGemm(pool, TileMath.get()));
        }
        try (WorkerPool pool = new WorkerPool(2)) {
            Case two = new Case(false, true, m, n, k, 1f, 0f, 5);
            two.run(new CpuGemm(pool, TileMath.get()));
            assertArrayEquals(one.c, two.c);
        }
        // Spot rows against the fp32 chain rather than the whole 2.2-billion-step reference.
        for (int i : new int[]{0, 647, 1299}) {
            for (int j : new int[]{0, 63, 64, 1299}) {
                assertEquals(one.chain(i, j), one.c[one.cOff + i * one.ldc + j], "C[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void badCallsThrowBeforeWritingAnything() {
        try (WorkerPool pool = new WorkerPool(2)) {
            CpuGemm gemm = new CpuGemm(pool, TileMath.get());
            float[] a = new float[64];
            float[] b = new float[64];
            float[] c = new float[64];
            Arrays.fill(c, GUARD);
            assertThrows(IllegalArgumentException.class,
                    () -> gemm.gemm(false, false, -1, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4));
            assertThrows(IllegalArgumentException.class,
                    () -> gemm.gemm(false, false, 4, 4, 4, 1f, a, 0, 3, b, 0, 4, 0f, c, 0, 4), "lda < k");
            assertThrows(IllegalArgumentException.class,
                    () -> gemm.gemm(true, false, 4, 4, 5, 1f, a, 0, 3, b, 0, 4, 0f, c, 0, 4), "lda < m, transposed");
            assertThrows(IllegalArgumentException.class,
                    () -> gemm.gemm(false, true, 4, 4, 5, 1f, a, 0, 5, b, 0, 4, 0f, c, 0, 4), "ldb < k, transposed");
            assertThrows(IllegalArgumentException.class,
                    () -> gemm.gemm(false, false, 4, 8, 4, 1f, a, 0, 4, b, 0, 8, 0f, c, 0, 7), "ldc < n");
            // The region ends one past the array: checked before the kernel, so C is untouched.
            assertThrows(IndexOutOfBoundsException.class,
                    () -> gemm.gemm(false, false, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 49, 4));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> gemm.gemm(false, false, 4, 4, 4, 1f, a, 49, 4, b, 0, 4, 0f, c, 0, 4));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> gemm.gemm(false, false, 4, 4, 4, 1f, a, -1, 4, b, 0, 4, 0f, c, 0, 4));
            // (m-1)·ldc = 2^32 wraps to 0 in int arithmetic, an index that would look valid. (alpha = 0: only C
            // is checked and written.)
            assertThrows(IndexOutOfBoundsException.class,
                    () -> gemm.gemm(false, false, 65_537, 1, 1, 0f, a, 0, 1, b, 0, 1, 0f, c, 0, 65_536));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> gemm.gemmBatched(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2,
                            3, 1L << 40, 0, 4));
            assertThrows(IllegalArgumentException.class,
                    () -> gemm.gemmBatched(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2,
                            3, 4, 4, 3), "entries of C overlap");
            assertThrows(IllegalArgumentException.class,
                    () -> gemm.gemmBatched(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2,
                            3, -4, 4, 4), "negative stride");
            for (float x : c) {
                assertEquals(GUARD, x, "a rejected call wrote into C");
            }
            // The last valid region is accepted.
            gemm.gemm(false, false, 4, 4, 4, 1f, a, 48, 4, b, 48, 4, 0f, c, 48, 4);
            // Nothing is read from A and B when alpha is 0 or k is 0: they may even be missing.
            gemm.gemm(false, false, 4, 4, 4, 0f, null, 0, 4, null, 0, 4, 0f, c, 0, 4);
            gemm.gemm(false, false, 4, 4, 0, 1f, null, 0, 1, null, 0, 4, 0f, c, 0, 4);
            for (int i = 0; i < 16; i++) {
                assertEquals(0f, c[i]);
            }
        }
    }

    @Test
    void packingMemoryIsKeptAndBounded() {
        try (WorkerPool pool = new WorkerPool(2)) {
            CpuGemm gemm = new CpuGemm(pool, TileMath.get());
            new Case(false, false, 300, CpuGemm.NC + 100, CpuGemm.KC + 10, 1f, 0f, 1).run(gemm);
            Object kept = gemm.retainedWorkspace();
            long floats = gemm.retainedFloats();
            assertTrue(floats > 0 && floats <= CpuGemm.workspaceBound(2), floats + " floats kept");
            new Case(true, true, 50, 700, 90, 1f, 1f, 2).run(gemm);
            new Case(false, false, 40, 3, 9, 1f, 1f, 2).runBatched(gemm, 6);
            assertSame(kept, gemm.retainedWorkspace(), "the workspace is reused, not reallocated");
            assertTrue(gemm.retainedFloats() <= CpuGemm.workspaceBound(2));
        }
    }

    @Test
    void concurrentCallsDoNotShareTheirPackingMemory() throws Exception {
        try (WorkerPool pool = new WorkerPool(2)) {
            CpuGemm gemm = new CpuGemm(pool, TileMath.get());
            // Expected results one call at a time, then the same calls from three threads at once, repeatedly.
            Case[] cases = new Case[3];
            float[][] expected = new float[3][];
            for (int i = 0; i < 3; i++) {
                cases[i] = new Case(i == 1, i == 2, 150 + 7 * i, 300 - 50 * i, 600 + 11 * i, 1f, 0f, 40 + i);
                cases[i].run(gemm);
                expected[i] = cases[i].c.clone();
            }
            Thread[] threads = new Thread[3];
            Throwable[] failures = new Throwable[3];
            for (int i = 0; i < 3; i++) {
                int which = i;
                threads[i] = new Thread(() -> {
                    try {
                        for (int round = 0; round < 5; round++) {
                            Arrays.fill(cases[which].c, cases[which].cOff, cases[which].cOff + 10, Float.NaN);
                            cases[which].run(gemm);
                            assertArrayEquals(expected[which], cases[which].c, "case " + which + " round " + round);
                        }
                    } catch (Throwable t) {
                        failures[which] = t;
                    }
                });
                threads[i].start();
            }
            for (int i = 0; i < 3; i++) {
                threads[i].join();
                if (failures[i] != null) {
                    throw new AssertionError("concurrent call " + i + " failed", failures[i]);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static TileMath[] twins() {
        return Simd.available() ? new TileMath[]{VectorTileMath.INSTANCE, ScalarTileMath.INSTANCE}
                : new TileMath[]{ScalarTileMath.INSTANCE};
    }

    static float[] random(SplittableRandom rnd, int length) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** One call: operands in padded arrays (leading dimensions past the width, offsets), C among guards. */
    private static final class Case {
        final boolean transA;
        final boolean transB;
        final int m;
        final int n;
        final int k;
        final float alpha;
        final float beta;
        final int lda;
        final int ldb;
        final int ldc;
        final int aOff = 3;
        final int bOff = 5;
        final int cOff = 7;
        final float[] a;
        final float[] b;
        final float[] c;
        final float[] c0;

        Case(boolean transA, boolean transB, int m, int n, int k, float alpha, float beta, long seed) {
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            SplittableRandom rnd = new SplittableRandom(seed);
            lda = (transA ? m : k) + 2;
            ldb = (transB ? k : n) + 3;
            ldc = n + 4;
            a = random(rnd, aOff + (transA ? k : m) * lda);
            b = random(rnd, bOff + (transB ? n : k) * ldb);
            if (alpha == 0f) {
                // Never read: NaN here would leak into C if they were.
                Arrays.fill(a, Float.NaN);
                Arrays.fill(b, Float.NaN);
            }
            c = new float[cOff + m * ldc + 2];
            Arrays.fill(c, GUARD);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    // beta = 0 must overwrite C without reading it: NaN there would survive a read.
                    c[cOff + i * ldc + j] = beta == 0f ? Float.NaN : (float) (rnd.nextDouble() * 2 - 1);
                }
            }
            c0 = c.clone();
        }

        void run(CpuGemm gemm) {
            gemm.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }

        void runBatched(CpuGemm gemm, int batch) {
            // The same operands each time, so only C's stride matters: entries share A and B.
            float[] cs = new float[batch * m * n];
            gemm.gemmBatched(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, 0f, cs, 0, n, batch, 0, 0,
                    (long) m * n);
        }

        float opA(int i, int p) {
            return transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }

        float opB(int p, int j) {
            return transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }

        /**
         * The fp32 chain every element must equal: start from beta·C (0 when beta = 0), then
         * {@code fma(A[i][p], alpha·B[p][j], c)} in index order (alpha on B as reference BLAS has it).
         */
        float chain(int i, int j) {
            float old = c0[cOff + i * ldc + j];
            float acc = beta == 0f ? 0f : beta == 1f ? old : old * beta;
            if (alpha == 0f) {
                return acc;
            }
            if (transB && !transA && m <= CpuGemm.DOT_MAX_ROWS) {
                // The dot-product path's order (TileMath.dotRows): LANES slots, each a chain over the steps
                // p ≡ slot (mod LANES), summed in slot order, then scaled by alpha and added to beta·C.
                float[] slots = new float[TileMath.LANES];
                for (int p = 0; p < k; p++) {
                    slots[p % TileMath.LANES] = Math.fma(opA(i, p), opB(p, j), slots[p % TileMath.LANES]);
                }
                float v = alpha * TileMath.total(slots, 0);
                return beta == 0f ? v : acc + v;
            }
            for (int p = 0; p < k; p++) {
                acc = Math.fma(opA(i, p), alpha * opB(p, j), acc);
            }
            return acc;
        }

        void check(String twin) {
            String what = twin + " transA=" + transA + " transB=" + transB + " m=" + m + " n=" + n + " k=" + k
                    + " alpha=" + alpha + " beta=" + beta;
            for (int x = 0; x < c.length; x++) {
                int i = (x - cOff) / ldc;
                int j = (x - cOff) % ldc;
                boolean inside = x >= cOff && i < m && j < n;
                if (!inside) {
                    assertEquals(GUARD, c[x], what + ": wrote outside C at " + x);
                    continue;
                }
                float got = c[x];
                float chain = chain(i, j);
                if (Float.floatToIntBits(got) != Float.floatToIntBits(chain)) {
                    fail(what + ": C[" + i + "][" + j + "] = " + got + ", the fp32 fma chain gives " + chain);
                }
                double sum = 0;
                double abs = 0;
                if (alpha != 0f) {
                    for (int p = 0; p < k; p++) {
                        double t = (double) opA(i, p) * opB(p, j);
                        sum += t;
                        abs += Math.abs(t);
                    }
                }
                double old = beta == 0f ? 0 : c0[x];
                double expected = alpha * sum + beta * old;
                // The error bound of k fma roundings plus those of alpha·a and beta·c (with a factor 2 for γ).
                double bound = 2 * (k + 2) * U * (Math.abs(alpha) * abs + Math.abs(beta * old));
                if (!(Math.abs(got - expected) <= bound)) {
                    fail(what + ": C[" + i + "][" + j + "] = " + got + ", float64 gives " + expected + " ± " + bound);
                }
            }
        }
    }
}
