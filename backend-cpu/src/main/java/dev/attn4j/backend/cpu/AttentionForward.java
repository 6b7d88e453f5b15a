package dev.attn4j.backend.cpu;

import java.util.Arrays;

import static dev.attn4j.backend.cpu.AttentionProblem.BR;

/**
 * The tiled forward (FlashAttention-2, Dao 2023): per query tile of {@link AttentionProblem#BR} rows, the key tiles
 * of {@link AttentionProblem#bc} columns it can see, with an online softmax; the {@code Sq × Sk} matrix never
 * exists.
 *
 * <p>A work item is one head's query tiles (or an interleaved share of them when there are fewer heads than
 * workers), largest causal cost first, handed out dynamically. Each worker packs the K of the KV head it is on once,
 * transposed and pre-scaled ({@code scale·Kᵀ}); Q, and V when D is a multiple of 16, are read in place. Per key tile
 * it computes {@code S = Q·(scale·Kᵀ)}, applies the score rules on partial tiles ({@link AttentionProblem#scores}),
 * and updates the running row max {@code m}, row sum {@code l} and the unnormalised output. Key tiles no row of the
 * query tile can see are never visited, and on edge tiles only the 16-column groups some row can see are computed.
 * Rows that see no key end as {@code o = 0}, {@code lse = −∞} (docs/design.md §4.6).
 */
final class AttentionForward {
    /** Work items wanted per worker thread (the forward's partition does not affect its results). */
    private static final int ITEMS_PER_THREAD = 2;

    private final WorkerPool pool;
    private final TileMath math;

    AttentionForward(WorkerPool pool, TileMath math) {
        this.pool = pool;
        this.math = math;
    }

    void run(AttentionProblem p, Span<float[]> oOut, Span<float[]> lseOut) {
        Scratch[] scratch = new Scratch[pool.threads()];
        // An item is one head's query tiles, or an interleaved share of them when there are too few heads to
        // keep every worker busy: each item packs its KV head once, and interleaving evens out causal costs.
        int heads = p.batch * p.heads;
        int shares = Math.min(p.queryTiles, Math.max(1, (ITEMS_PER_THREAD * pool.threads() + heads - 1) / heads));
        pool.forEach(heads * shares, (worker, item) -> {
            if (scratch[worker] == null) {
                scratch[worker] = new Scratch(p);
            }
            int bh = item / shares;
            int share = item % shares;
            // Query tiles in descending order: with a causal mask the last tiles cost most.
            for (int qt = p.queryTiles - 1 - share; qt >= 0; qt -= shares) {
                queryTile(p, scratch[worker], bh / p.heads, bh % p.heads, qt, oOut, lseOut);
            }
        });
    }

    private void queryTile(AttentionProblem p, Scratch w, int b, int h, int qt, Span<float[]> oSpan,
                           Span<float[]> lseSpan) {
        float[] out = oSpan.array();
        float[] lseOut = lseSpan.array();
        int kvHead = h / p.group;
        w.packKeys(p, b, kvHead);
        int i0 = qt * BR;
        int rows = Math.min(BR, p.seqQ - i0);
        int dp = p.dPad;
        float[] acc = w.o;
        Arrays.fill(acc, 0, rows * dp, 0f);
        Arrays.fill(w.m, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(w.l, 0, rows * TileMath.LANES, 0f);

        int keyBegin = p.keys.rowBegin(i0);
        int keyEnd = p.keys.rowEnd(i0 + rows - 1);
        for (int kt = keyBegin / p.bc; kt * p.bc < keyEnd; kt++) {
            block(p, w, b, h, i0, rows, kt, p.tiles.classify(b, h, i0, rows, kt));
        }

        int d = p.headDim;
        for (int r = 0; r < rows; r++) {
            int dst = oSpan.offset() + p.queryRow(b, i0 + r, h);
            int lseAt = lseSpan.offset() + (b * p.heads + h) * p.seqQ + i0 + r;
            float l = TileMath.total(w.l, r * TileMath.LANES);
            if (l == 0f) {
                Arrays.fill(out, dst, dst + d, 0f);
                lseOut[lseAt] = Float.NEGATIVE_INFINITY;
            } else {
                float inv = 1f / l;
                int src = r * dp;
                for (int x = 0; x < d; x++) {
                    out[dst + x] = acc[src + x] * inv;
                }
                lseOut[lseAt] = w.m[r] + (float) StrictMath.log(l);
            }
        }
    }

    /**
     * Query tile {@code i0} ({@code rows} rows) against key tile {@code kt}: S, masks, and the online-softmax
     * update of the rows' {@code m}, {@code l} and output accumulator.
     */
    private void block(AttentionProblem p, Scratch w, int b, int h, int i0, int rows, int kt, TileClasses.Tile tile) {
        if (tile == TileClasses.Tile.SKIP) {
            return;
        }
        int keyBegin = p.keys.rowBegin(i0);
        // On a causal or window edge only the columns some row of the tile can see are computed, in
        // groups of LANES: j0 is where the computed columns start, colsPad how many there are.
        int jEnd = Math.min((kt + 1) * p.bc, p.keys.rowEnd(i0 + rows - 1));
        int jOpen = tile == TileClasses.Tile.PARTIAL
                ? p.tiles.firstOpenColumn(b, h, i0, rows, Math.max(kt * p.bc, keyBegin), jEnd) : keyBegin;
        if (jOpen >= jEnd) {
            return;
        }
        int j0 = Math.max(kt * p.bc, jOpen / TileMath.LANES * TileMath.LANES);
        int colsPad = TileMath.padded(jEnd - j0);
        int dp = p.dPad;
        float[] s = w.s;
        float[] acc = w.o;
        // Q is read in place (row stride H·D, reduction over the D real features); the softmax scale was
        // folded into the packed Kᵀ, so the tile needs no copy of its own.
        int qAt = p.qOff + p.queryRow(b, i0, h);
        math.gemm(p.q, qAt, p.qStride, 1, w.kt, kt * dp * p.bc + j0 - kt * p.bc, p.bc, s, 0, p.bc, rows, colsPad, p.headDim,
                false);
        p.scores(s, p.bc, b, h, i0, rows, j0, colsPad, tile, null);
        math.onlineSoftmax(s, p.bc, rows, colsPad, w.m, w.mNew, w.l, acc, dp);
        if (p.dropout.active()) {
            // l sums the undropped probabilities (lse is that of the scores); only o sees dropout.
            for (int r = 0; r < rows; r++) {
                p.dropout.dropRow(w.philox(p.dropout), s, r * p.bc, b, h, i0 + r, j0, Math.min(colsPad, p.seqK - j0));
            }
        }
        // Rows of V past Sk are never read: the reduction stops at the last real key.
        int keys = Math.min(colsPad, p.seqK - j0);
        int kvHead = h / p.group;
        if (p.inPlace) {
            math.gemm(s, 0, p.bc, 1, p.v, p.vOff + p.keyRow(b, j0, kvHead), p.kStride, acc, 0, dp, rows, dp, keys, true);
        } else {
            math.gemm(s, 0, p.bc, 1, w.v, j0 * dp, dp, acc, 0, dp, rows, dp, keys, true);
        }
    }

    /** Per-worker forward memory: O(tile) plus one packed KV head (O(Sk·D), never O(S²)). */
    private static final class Scratch {
        final float[] s;
        final float[] o;
        final float[] m = new float[BR];
        /** Scratch of {@link TileMath#onlineSoftmax}. */
        final float[] mNew = new float[BR];
        /** Per row, {@link TileMath#LANES} partial sums of the softmax denominator. */
        final float[] l = new float[BR * TileMath.LANES];
        final float[] kt;
        final float[] v;
        private int packedBatch = -1;
        private int packedHead = -1;
        private Philox philox;

        Scratch(AttentionProblem p) {
            s = new float[BR * p.bc];
            o = new float[BR * p.dPad];
            kt = new float[p.dPad * p.seqKPad];
            v = p.inPlace ? null : new float[p.seqKPad * p.dPad];
        }

        Philox philox(AttentionDropout dropout) {
            if (philox == null) {
                philox = dropout.philox();
            }
            return philox;
        }

        void packKeys(AttentionProblem p, int b, int kvHead) {
            if (b == packedBatch && kvHead == packedHead) {
                return;
            }
            AttentionPacking.transposed(p, p.k, p.kOff, b, kvHead, p.scale, kt);
            if (v != null) {
                AttentionPacking.keyRows(p, p.v, p.vOff, b, kvHead, v);
            }
            packedBatch = b;
            packedHead = kvHead;
        }
    }
}
