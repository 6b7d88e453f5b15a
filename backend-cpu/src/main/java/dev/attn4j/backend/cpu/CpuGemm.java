package dev.attn4j.backend.cpu;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Single-precision GEMM, {@code C = alpha·op(A)·op(B) + beta·C} on row-major {@code float[]} regions, with
 * BLAS semantics: {@code op(X)} is {@code X} or {@code Xᵀ}, {@code beta = 0} never reads {@code C} (NaN there
 * is overwritten), and {@code alpha = 0} or {@code k = 0} reads neither {@code A} nor {@code B}.
 *
 * <p>Goto/BLIS blocking around the attention's own micro-kernel, {@link TileMath#gemm}: for each block of
 * {@link #NC} columns and {@link #KC} reduction steps, {@code alpha·op(B)} is packed once, shared by all
 * workers, into panels of {@code KC × 64} columns zero-padded to {@link TileMath#LANES}; each worker then packs
 * its {@link #MC_T}-row block of {@code op(A)} into slivers of {@link #MR} rows ({@code sliver[p·6 + r]}, so the
 * kernel reads it with row stride 1 and column stride 6) and runs the 6 × 64 kernel over every panel of its
 * column range. Only a transposed A is packed that way: a row-major one already has each row's reduction
 * steps contiguous, and the kernel, which takes any row and column strides, reads it in place (measured
 * faster than packing it); a transposed A used by a single panel is read in place too.
 *
 * <p>A product of at most {@link #DOT_MAX_ROWS} rows against a transposed B (a linear layer while decoding
 * one token per sequence) skips all of that: each element is a dot product of two contiguous rows
 * ({@link TileMath#dotRows}), so B is read once where it is. Packing it would copy all of B for a product that
 * reads it once: measured 7-15 times slower for one row (2048 × 512 and 20000 × 512 weights, one core).
 *
 * <p>Deterministic by construction: the blocked kernel keeps every {@code C} element as one fp32 fma chain
 * {@code c = fma(A[i][p], alpha·B[p][j], c)} over {@code p = 0..k-1} in order, continued from the stored value
 * across reduction blocks (a float store and load is exact), starting from {@code beta·C} (or 0). The work is
 * split over {@code M} and {@code N} only, never {@code K}, so an element's chain is the same whatever the
 * blocking, the partition or the number of threads, and the scalar and vector twins give the same bits. The
 * dot-product path sums in {@link TileMath#LANES} slots instead (its own fixed order, the same for every
 * partition, thread count and twin): a row's result there can differ in the last bits from the same row computed
 * among more than {@link #DOT_MAX_ROWS} rows.
 *
 * <p>Packing memory is kept between calls in a {@link Workspace}, grown to what a call needs and never past
 * {@link #workspaceBound}: {@code KC·NC} floats of packed B shared by the workers, and per worker a packed
 * block of a transposed A ({@code MC_T·KC}), a 6 × 64 edge tile, and (only for batches run one entry per worker)
 * its own packed B. One workspace is retained; calls may come from several threads at once, and one that finds it
 * taken allocates its own for that call. Calls must not come from inside a {@link WorkerPool} work item:
 * the pool does not nest.
 *
 * <p>A linear layer's three products, {@code x[m×k]}, {@code W[n×k]} and {@code y, dy [m×n]} dense row-major:
 * <pre>{@code
 * gemm.gemm(false, true, m, n, k, 1f, x, 0, k, w, 0, k, 0f, y, 0, n);     // y = x·Wᵀ
 * gemm.gemm(false, false, m, k, n, 1f, dy, 0, n, w, 0, k, 0f, dx, 0, k);  // dx = dy·W
 * gemm.gemm(true, false, n, k, m, 1f, dy, 0, n, x, 0, k, 1f, dw, 0, k);   // dW += dyᵀ·x
 * }</pre>
 *
 * <p>Preconditions (the caller, a port, validates its request first; these checks only keep a bad call from
 * writing anything): sizes and leading dimensions as BLAS, every region inside its array, {@code C} not
 * overlapping {@code A} or {@code B}, and batch entries of {@code C} not overlapping each other.
 */
final class CpuGemm {
    /** Rows of a packed sliver of A: the micro-kernel's 6 × 4-vector register block. */
    static final int MR = 6;
    /** Columns of a packed panel of B: four vectors of {@link TileMath#LANES}. */
    static final int NR = 4 * TileMath.LANES;
    /**
     * Reduction steps per block. A packed panel is then {@code KC·64} floats (128 KiB), kept in the 1 MiB L2
     * while the item's rows of A pass over it, and C is loaded and stored once per block: 512 measured 5-10%
     * faster than 256 and as fast as 768 (Zen 5, one core).
     */
    static final int KC = 512;
    /**
     * Rows of a row-major A (read in place) per work item, a multiple of {@link #MR}: 48 rows of {@link #KC}
     * steps are 96 KiB beside the panel in L2. 24 to 96 measured within 3%; 48 gives more items to balance.
     */
    static final int MC = 48;
    /**
     * Rows per work item, and per packed block, of a transposed A, a multiple of {@link #MR}. Packing reads each
     * stored row of A for {@code MC_T} adjacent floats, one reduction step after another a whole row length apart;
     * longer runs per row cost fewer cache lines and pages per packed float. Weight-gradient shapes on one core
     * (thread CPU time, 2026-12-05): 48 rows 205-230 GFLOP/s, 192 rows 211-238 (about 5% more; 144 and 240 no
     * better). 192 rows of {@link #KC} steps are 384 KiB beside the panel in the 1 MiB L2.
     */
    static final int MC_T = 192;
    /**
     * Columns of B per packed block, a multiple of {@link #NR}: {@code KC·NC} floats (4 MiB) of packed B shared
     * by the workers in L3. 2048 measured no slower than 4096 on a 20000-column product, with half the memory.
     */
    static final int NC = 2048;
    /** Work items aimed at per worker, so that a slow core (a shared machine) is balanced by the others. */
    private static final int ITEMS_PER_THREAD = 4;
    /**
     * Below this many multiply-adds (a 128³ product, about 10 µs on one core) a problem runs on the calling
     * thread: waking the workers costs more than they save.
     */
    private static final long SERIAL_FMAS = 1L << 21;

    /**
     * Most rows of a product against a transposed B that run as dot products ({@link #dotRows}); more rows
     * amortise packing B over enough work for the blocked kernel to win.
     */
    static final int DOT_MAX_ROWS = 8;
    /**
     * Below this many multiply-adds a dot-product problem runs on the calling thread. Lower than
     * {@link #SERIAL_FMAS}: a dot product streams its B once (memory-bound), so a second core's bandwidth pays
     * off sooner.
     */
    private static final long SERIAL_DOT_FMAS = 1L << 18;

    private final WorkerPool pool;
    private final TileMath math;
    private final AtomicReference<Workspace> retained = new AtomicReference<>();

    CpuGemm(WorkerPool pool, TileMath math) {
        this.pool = pool;
        this.math = math;
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C}: {@code op(A)} is {@code m×k}, {@code op(B)} {@code k×n},
     * {@code C} {@code m×n}. {@code A[i][p] = a[aOff + i·lda + p]}, or {@code a[aOff + p·lda + i]} when
     * {@code transA}; likewise {@code B} with {@code ldb}; {@code C[i][j] = c[cOff + i·ldc + j]}.
     *
     * @throws IllegalArgumentException  for negative sizes or leading dimensions too small
     * @throws IndexOutOfBoundsException when a region does not fit its array (nothing is written)
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        gemmBatched(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, 1, 0, 0, 0);
    }

    /**
     * {@code batch} independent products, entry {@code e} at offsets {@code aOff + e·strideA},
     * {@code bOff + e·strideB}, {@code cOff + e·strideC}; a stride of 0 shares that operand (A or B) across
     * entries. Entries of {@code C} must not overlap.
     *
     * @see #gemm
     */
    void gemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc, int batch, long strideA, long strideB, long strideC) {
        Problem p = new Problem(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc,
                batch, strideA, strideB, strideC);
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        if (alpha == 0f || k == 0) {
            for (int e = 0; e < batch; e++) {
                scaleC(p, p.cAt(e), 0, m, 0, n);
            }
            return;
        }
        if (p.transB && !p.transA && m <= DOT_MAX_ROWS) {
            for (int e = 0; e < batch; e++) {
                dotRows(p, e);
            }
            return;
        }
        Workspace ws = retained.getAndSet(null);
        if (ws == null) {
            ws = new Workspace(pool.threads());
        }
        try {
            long fmas = (long) m * n * k;
            int threads = pool.threads();
            if (threads > 1 && batch > 1 && (fmas < SERIAL_FMAS * threads || batch % threads == 0
                    || batch >= ITEMS_PER_THREAD * threads)) {
                // Whole entries per worker: no hand-off inside an entry, each worker with its own B panels.
                Workspace w = ws;
                pool.forEach(batch, (worker, e) -> blocked(p, e, w, worker, null));
            } else {
                WorkerPool parallel = threads > 1 && fmas >= SERIAL_FMAS ? pool : null;
                for (int e = 0; e < batch; e++) {
                    blocked(p, e, ws, 0, parallel);
                }
            }
        } finally {
            retained.set(ws);
        }
    }

    /**
     * Batch entry {@code e}: on the pool when {@code parallel} is given (B packed once into the shared buffer,
     * row blocks × column chunks handed out), else all on worker {@code worker} with its own buffers.
     */
    private void blocked(Problem p, int e, Workspace ws, int worker, WorkerPool parallel) {
        int aAt = p.aAt(e);
        int bAt = p.bAt(e);
        int cAt = p.cAt(e);
        int threads = parallel == null ? 1 : parallel.threads();
        for (int jc = 0; jc < p.n; jc += NC) {
            int nc = Math.min(NC, p.n - jc);
            int panels = Math.ceilDiv(nc, NR);
            int mBlocks = Math.ceilDiv(p.m, rowBlock(p));
            // Column chunks only when there are too few row blocks to keep every worker busy.
            int wanted = threads == 1 ? 1 : Math.ceilDiv(ITEMS_PER_THREAD * threads, mBlocks);
            int perChunk = Math.ceilDiv(panels, Math.min(panels, wanted));
            int chunks = Math.ceilDiv(panels, perChunk);
            for (int pc = 0; pc < p.k; pc += KC) {
                int kc = Math.min(KC, p.k - pc);
                float[] bPack = parallel == null ? ws.privateB(worker, kc, nc) : ws.sharedB(kc, nc);
                int jcF = jc;
                int pcF = pc;
                if (parallel == null) {
                    packB(p, bAt, pc, kc, jc, nc, 0, panels, bPack);
                    for (int item = 0; item < mBlocks * chunks; item++) {
                        block(p, aAt, cAt, ws, worker, bPack, jc, nc, pc, kc, item / chunks, item % chunks, perChunk);
                    }
                } else {
                    int groups = Math.min(panels, threads * ITEMS_PER_THREAD);
                    int perGroup = Math.ceilDiv(panels, groups);
                    parallel.forEach(Math.ceilDiv(panels, perGroup), g ->
                            packB(p, bAt, pcF, kc, jcF, nc, g * perGroup, Math.min(panels, (g + 1) * perGroup), bPack));
                    parallel.forEach(mBlocks * chunks, (w, item) ->
                            block(p, aAt, cAt, ws, w, bPack, jcF, nc, pcF, kc, item / chunks, item % chunks, perChunk));
                }
            }
        }
    }

    /**
     * Batch entry {@code e} of a product of few rows against a transposed B, as {@link TileMath#dotRows}: B's
     * stored rows are read where they are, once, instead of being packed (a copy of all of B, for a product that
     * then reads it once). Columns are split across the workers in multiples of {@link TileMath#DOT_ROWS}.
     */
    private void dotRows(Problem p, int e) {
        int aAt = p.aAt(e);
        int bAt = p.bAt(e);
        int cAt = p.cAt(e);
        if (p.beta != 0f && p.beta != 1f) {
            scaleC(p, cAt, 0, p.m, 0, p.n);
        }
        boolean accumulate = p.beta != 0f;
        int threads = pool.threads();
        if (threads == 1 || (long) p.m * p.n * p.k < SERIAL_DOT_FMAS) {
            math.dotRows(p.a, aAt, p.lda, p.b, bAt, p.ldb, p.alpha, p.c, cAt, p.ldc, p.m, p.n, p.k, accumulate,
                    new float[TileMath.DOT_SCRATCH]);
            return;
        }
        int items = Math.min(Math.ceilDiv(p.n, TileMath.DOT_ROWS), threads * ITEMS_PER_THREAD);
        int per = Math.ceilDiv(Math.ceilDiv(p.n, items), TileMath.DOT_ROWS) * TileMath.DOT_ROWS;
        pool.forEach(Math.ceilDiv(p.n, per), item -> {
            int j0 = item * per;
            math.dotRows(p.a, aAt, p.lda, p.b, bAt + j0 * p.ldb, p.ldb, p.alpha, p.c, cAt + j0, p.ldc, p.m,
                    Math.min(per, p.n - j0), p.k, accumulate, new float[TileMath.DOT_SCRATCH]);
        });
    }

    /** Rows of op(A) per work item: {@link #MC_T} for a transposed A (which is packed), else {@link #MC}. */
    private static int rowBlock(Problem p) {
        return p.transA ? MC_T : MC;
    }

    /** Most floats a {@link Workspace} of a pool of {@code threads} workers ever holds. */
    static long workspaceBound(int threads) {
        return (long) KC * NC + (long) threads * ((long) MC_T * KC + MR * NR + (long) KC * NC);
    }

    /** The workspace kept for the next call (tests: reused, not reallocated), or null while a call holds it. */
    Object retainedWorkspace() {
        return retained.get();
    }

    /** Floats held by the kept workspace. */
    long retainedFloats() {
        Workspace ws = retained.get();
        return ws == null ? 0 : ws.floats();
    }

    /** Row block {@code mb} × column chunk {@code chunk} of C over reduction block {@code pc..pc+kc}. */
    private void block(Problem p, int aAt, int cAt, Workspace ws, int worker, float[] bPack, int jc, int nc,
                       int pc, int kc, int mb, int chunk, int perChunk) {
        int mc = rowBlock(p);
        int i0 = mb * mc;
        int rows = Math.min(mc, p.m - i0);
        int q0 = chunk * perChunk;
        int q1 = Math.min(Math.ceilDiv(nc, NR), q0 + perChunk);
        int j0 = jc + q0 * NR;
        int j1 = jc + Math.min(nc, q1 * NR);
        if (pc == 0 && p.beta != 0f && p.beta != 1f) {
            scaleC(p, cAt, i0, i0 + rows, j0, j1);
        }
        boolean accumulate = pc > 0 || p.beta != 0f;
        // A row-major op(A) is read where it is (6 rows of contiguous reduction steps: measured 5-10% faster
        // than packing it, which costs a copy per element); a transposed one is packed unless it is read only
        // once (one panel), so the kernel does not step through a new line and page of A per reduction step.
        boolean inPlace = !p.transA || q1 - q0 == 1;
        float[] a;
        int ars;
        int acs;
        if (inPlace) {
            a = p.a;
            ars = p.transA ? 1 : p.lda;
            acs = p.transA ? p.lda : 1;
        } else {
            a = ws.a(worker);
            ars = 1;
            acs = MR;
            packTransposedA(p, aAt, i0, rows, pc, kc, a);
        }
        int slivers = Math.ceilDiv(rows, MR);
        float[] c = p.c;
        int ldc = p.ldc;
        for (int q = q0; q < q1; q++) {
            int j = jc + q * NR;
            int width = Math.min(NR, jc + nc - j);
            int padded = TileMath.padded(width);
            int panel = q * NR * kc;
            for (int s = 0; s < slivers; s++) {
                int i = i0 + s * MR;
                int mr = Math.min(MR, p.m - i);
                // Where the sliver starts: in place, row i and column pc of op(A).
                int as = inPlace ? aAt + i * ars + pc * acs : s * MR * kc;
                int cij = cAt + i * ldc + j;
                if (padded == width && (mr == MR || inPlace)) {
                    math.gemm(a, as, ars, acs, bPack, panel, padded, c, cij, ldc, mr, padded, kc, accumulate);
                } else {
                    // A partial tile goes through a 6 × 64 scratch tile, as the kernel stores whole rows of
                    // whole vectors: packed, all 6 rows (the padding rows are zeros); in place, the mr rows
                    // that exist. Copying C in and out keeps each element's fma chain unchanged.
                    float[] tile = ws.tile(worker);
                    if (accumulate) {
                        for (int r = 0; r < mr; r++) {
                            System.arraycopy(c, cij + r * ldc, tile, r * padded, width);
                        }
                    }
                    math.gemm(a, as, ars, acs, bPack, panel, padded, tile, 0, padded, inPlace ? mr : MR, padded, kc,
                            accumulate);
                    for (int r = 0; r < mr; r++) {
                        System.arraycopy(tile, r * padded, c, cij + r * ldc, width);
                    }
                }
            }
        }
    }

    /**
     * Panels {@code q0..q1} of {@code alpha·op(B)[pc..pc+kc][jc..jc+nc]} (alpha folded into B as reference
     * BLAS does): panel {@code q} at {@code q·NR·kc}, row
     * {@code p} of it at {@code p·padded}, where {@code padded} is its width rounded up to {@link TileMath#LANES}
     * (64 except maybe the last), with zeros past the width.
     */
    private static void packB(Problem p, int bAt, int pc, int kc, int jc, int nc, int q0, int q1, float[] dst) {
        float[] b = p.b;
        int ldb = p.ldb;
        float alpha = p.alpha;
        for (int q = q0; q < q1; q++) {
            int j = jc + q * NR;
            int width = Math.min(NR, jc + nc - j);
            int padded = TileMath.padded(width);
            int base = q * NR * kc;
            if (!p.transB) {
                for (int r = 0; r < kc; r++) {
                    int to = base + r * padded;
                    int from = bAt + (pc + r) * ldb + j;
                    for (int x = 0; x < width; x++) {
                        dst[to + x] = alpha * b[from + x];
                    }
                    if (width < padded) {
                        Arrays.fill(dst, to + width, to + padded, 0f);
                    }
                }
            } else {
                // op(B)[p][j] = b[j·ldb + p]: a transpose, in bands of LANES reduction steps so that the reads
                // (along stored rows) and the writes (down panel columns) each stay within a few lines.
                // Measured up to 2x faster than whole columns at a time.
                for (int r0 = 0; r0 < kc; r0 += TileMath.LANES) {
                    int r1 = Math.min(kc, r0 + TileMath.LANES);
                    for (int x = 0; x < width; x++) {
                        int from = bAt + (j + x) * ldb + pc;
                        int to = base + x;
                        for (int r = r0; r < r1; r++) {
                            dst[to + r * padded] = alpha * b[from + r];
                        }
                    }
                }
                if (width < padded) {
                    for (int r = 0; r < kc; r++) {
                        Arrays.fill(dst, base + r * padded + width, base + (r + 1) * padded, 0f);
                    }
                }
            }
        }
    }

    /**
     * Rows {@code i0..i0+rows} of a transposed {@code op(A)} ({@code op(A)[i][p] = a[p·lda + i]}), columns
     * {@code pc..pc+kc}, as slivers of {@link #MR} rows: row {@code i0 + s·MR + r}, column {@code pc + x} at
     * {@code dst[s·MR·kc + x·MR + r]}; the rows that pad the last sliver to {@link #MR} are zeros. (A row-major
     * A is never packed, see {@link #block}.)
     */
    private static void packTransposedA(Problem p, int aAt, int i0, int rows, int pc, int kc, float[] dst) {
        float[] a = p.a;
        int lda = p.lda;
        // Sliver by sliver: its 6 rows are 6 adjacent floats of each stored row, written contiguously.
        // Measured 2-5x faster than copying each stored row's whole run into all slivers at once.
        for (int s = 0; s * MR < rows; s++) {
            int mr = Math.min(MR, rows - s * MR);
            int from = aAt + pc * lda + i0 + s * MR;
            int to = s * MR * kc;
            if (mr == MR) {
                for (int x = 0; x < kc; x++, from += lda, to += MR) {
                    dst[to] = a[from];
                    dst[to + 1] = a[from + 1];
                    dst[to + 2] = a[from + 2];
                    dst[to + 3] = a[from + 3];
                    dst[to + 4] = a[from + 4];
                    dst[to + 5] = a[from + 5];
                }
            } else {
                for (int x = 0; x < kc; x++, from += lda, to += MR) {
                    for (int r = 0; r < mr; r++) {
                        dst[to + r] = a[from + r];
                    }
                    Arrays.fill(dst, to + mr, to + MR, 0f);
                }
            }
        }
    }

    /** {@code C[i0..i1][j0..j1] *= beta}; with {@code beta = 0} C is overwritten by zeros without being read. */
    private static void scaleC(Problem p, int cAt, int i0, int i1, int j0, int j1) {
        float beta = p.beta;
        if (beta == 1f) {
            return;
        }
        float[] c = p.c;
        for (int i = i0; i < i1; i++) {
            int row = cAt + i * p.ldc;
            if (beta == 0f) {
                Arrays.fill(c, row + j0, row + j1, 0f);
            } else {
                for (int j = row + j0; j < row + j1; j++) {
                    c[j] *= beta;
                }
            }
        }
    }

    /** One call's arguments, checked: every index the call computes fits an int and lies in its array. */
    private static final class Problem {
        final boolean transA;
        final boolean transB;
        final int m;
        final int n;
        final int k;
        final float alpha;
        final float beta;
        final float[] a;
        final float[] b;
        final float[] c;
        final int lda;
        final int ldb;
        final int ldc;
        private final int aOff;
        private final int bOff;
        private final int cOff;
        private final long strideA;
        private final long strideB;
        private final long strideC;

        Problem(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc,
                int batch, long strideA, long strideB, long strideC) {
            if (m < 0 || n < 0 || k < 0 || batch < 0) {
                throw new IllegalArgumentException("gemm sizes must be >= 0: m=" + m + " n=" + n + " k=" + k
                        + " batch=" + batch);
            }
            if (strideA < 0 || strideB < 0 || strideC < 0) {
                throw new IllegalArgumentException("gemm batch strides must be >= 0: " + strideA + ", " + strideB
                        + ", " + strideC);
            }
            // Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k), C is m×n.
            checkLd("lda", lda, transA ? m : k);
            checkLd("ldb", ldb, transB ? k : n);
            checkLd("ldc", ldc, n);
            boolean readsAB = alpha != 0f && k > 0 && m > 0 && n > 0;
            if (readsAB) {
                checkRegion("A", a, aOff, transA ? k : m, transA ? m : k, lda, batch, strideA);
                checkRegion("B", b, bOff, transB ? n : k, transB ? k : n, ldb, batch, strideB);
            }
            checkRegion("C", c, cOff, m, n, ldc, batch, strideC);
            if (batch > 1 && m > 0 && n > 0 && strideC < (long) (m - 1) * ldc + n) {
                throw new IllegalArgumentException("gemm batch entries of C overlap: strideC=" + strideC
                        + " < " + ((long) (m - 1) * ldc + n));
            }
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            this.a = a;
            this.b = b;
            this.c = c;
            this.lda = lda;
            this.ldb = ldb;
            this.ldc = ldc;
            this.aOff = aOff;
            this.bOff = bOff;
            this.cOff = cOff;
            this.strideA = strideA;
            this.strideB = strideB;
            this.strideC = strideC;
        }

        int aAt(int e) {
            return (int) (aOff + e * strideA);
        }

        int bAt(int e) {
            return (int) (bOff + e * strideB);
        }

        int cAt(int e) {
            return (int) (cOff + e * strideC);
        }

        private static void checkLd(String name, int ld, int cols) {
            if (ld < Math.max(1, cols)) {
                throw new IllegalArgumentException("gemm " + name + "=" + ld + " < max(1, " + cols + ")");
            }
        }

        /** {@code rows × cols} at {@code off + e·stride} with leading dimension {@code ld}, for every entry. */
        private static void checkRegion(String name, float[] x, int off, int rows, int cols, int ld, int batch,
                                        long stride) {
            if (rows == 0 || cols == 0 || batch == 0) {
                return;
            }
            if (x == null) {
                throw new IllegalArgumentException("gemm " + name + " is null");
            }
            // All in long: (rows-1)·ld and (batch-1)·stride may each exceed an int on a bad call.
            long last = off + (batch - 1) * stride + (long) (rows - 1) * ld + cols - 1;
            if (off < 0 || last >= x.length) {
                throw new IndexOutOfBoundsException("gemm " + name + ": " + rows + "×" + cols + " (ld " + ld
                        + ", batch " + batch + ", stride " + stride + ") at offset " + off + " needs index " + last
                        + ", array length " + x.length);
            }
        }
    }

    /** Packing memory, grown on demand up to its bounds and kept for later calls. */
    private static final class Workspace {
        private final float[][] a;
        private final float[][] tiles;
        private final float[][] privateB;
        private float[] sharedB;

        Workspace(int threads) {
            a = new float[threads][];
            tiles = new float[threads][];
            privateB = new float[threads][];
        }

        float[] a(int worker) {
            if (a[worker] == null) {
                a[worker] = new float[MC_T * KC];
            }
            return a[worker];
        }

        float[] tile(int worker) {
            if (tiles[worker] == null) {
                tiles[worker] = new float[MR * NR];
            }
            return tiles[worker];
        }

        float[] sharedB(int kc, int nc) {
            sharedB = fit(sharedB, kc, nc);
            return sharedB;
        }

        float[] privateB(int worker, int kc, int nc) {
            privateB[worker] = fit(privateB[worker], kc, nc);
            return privateB[worker];
        }

        long floats() {
            long total = sharedB == null ? 0 : sharedB.length;
            for (float[][] perWorker : new float[][][]{a, tiles, privateB}) {
                for (float[] x : perWorker) {
                    total += x == null ? 0 : x.length;
                }
            }
            return total;
        }

        /** A buffer for {@code kc × nc} packed B (panels at {@code NR·kc} apart), reused when big enough. */
        private static float[] fit(float[] buf, int kc, int nc) {
            int need = Math.ceilDiv(nc, NR) * NR * kc;
            if (buf != null && buf.length >= need) {
                return buf;
            }
            // Grow straight to the bound when more than half of it is needed, so ragged sizes do not regrow.
            int bound = KC * NC;
            return new float[need > bound / 2 ? bound : need];
        }
    }
}
