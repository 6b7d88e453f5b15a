package dev.attn4j.backend.cpu;

import java.util.Arrays;


/**
 * The forward for one query position ({@code Sq = 1}, generation against a KV cache), split over the keys as
 * FlashDecoding does (Dao et al., 2023): with one query row there are no query tiles to share out, so the keys are.
 *
 * <p>A work unit is (batch, KV head, split of the key tiles) and takes the whole group of query heads that share
 * the KV head as its rows, so each K and V row is read once per group: with one query row, packing K transposed
 * for the whole head, as the tiled forward does, would cost as much as the scores themselves. Per key tile it
 * copies the tile's K rows, scaled (they stay in L1), computes the transposed scores {@code Sᵀ = (scale·K)·Qᵀ}
 * (keys as rows; Qᵀ of the group is packed once per unit), turns each head's column into a row, applies the score
 * rules ({@link AttentionProblem#scores}) and runs the forward's online softmax, then {@code O += P·V} for all the
 * group's rows at once, V read in place. Every score is the same fma chain over {@code q·(scale·k)} as in
 * {@link AttentionForward}, so with one split the results are the tiled forward's bit for bit (and the backward,
 * which recomputes the scores its way, sees exactly the probabilities this forward used). A unit leaves its rows' max {@code m}, sum
 * {@code l} and unnormalised output; they are combined per head in split order by their log-sum-exp:
 * {@code M = max m_s}, {@code o = Σ e^{m_s−M}·O_s / Σ e^{m_s−M}·l_s}, {@code lse = M + log Σ e^{m_s−M}·l_s}.
 *
 * <p>The number of splits is a function of the shape only, never of the thread count, so results are
 * bit-identical across thread counts; with several splits they differ from the tiled forward's by rounding only.
 */
final class AttentionDecode {
    /** Units wanted (batch × KV heads × splits), whatever the thread count. */
    private static final int TARGET_UNITS = 16;
    /** Fewest key tiles a split is given, so that a unit's fixed costs (packing Qᵀ, its partial results) stay small. */
    private static final int MIN_TILES_PER_SPLIT = 2;

    private final WorkerPool pool;
    private final TileMath math;

    AttentionDecode(WorkerPool pool, TileMath math) {
        this.pool = pool;
        this.math = math;
    }

    /** Whether this path runs the call: one query position. */
    static boolean applies(AttentionProblem p) {
        return p.seqQ == 1;
    }

    void run(AttentionProblem p, Span<float[]> oOut, Span<float[]> lseOut) {
        int g = p.group;
        int dp = p.dPad;
        // The one row's visible keys by the causal and window rules; other masks come per tile.
        int tileFrom = p.keys.rowBegin(0) / p.bc;
        int tileTo = (p.keys.rowEnd(0) + p.bc - 1) / p.bc;
        int tiles = Math.max(0, tileTo - tileFrom);
        int heads = p.batch * p.kvHeads;
        int splits = Math.max(1, Math.min((TARGET_UNITS + heads - 1) / heads, tiles / MIN_TILES_PER_SPLIT));
        int perSplit = Math.max(1, (tiles + splits - 1) / splits);
        splits = Math.max(1, (tiles + perSplit - 1) / perSplit);
        int units = Math.multiplyExact(heads, splits);
        float[] m = new float[Math.multiplyExact(units, g)];
        float[] l = new float[m.length];
        float[] acc = new float[Math.multiplyExact(m.length, dp)];
        Scratch[] scratch = new Scratch[pool.threads()];
        int first = tileFrom;
        int count = splits;
        pool.forEach(units, (worker, unit) -> {
            if (scratch[worker] == null) {
                scratch[worker] = new Scratch(p);
            }
            int bk = unit / count;
            int split = unit % count;
            int from = first + split * perSplit;
            int to = Math.min(tileTo, from + perSplit);
            unit(p, scratch[worker], bk / p.kvHeads, bk % p.kvHeads, from, to, m, l, acc, unit * g);
        });
        pool.forEach(heads, bk -> combine(p, bk / p.kvHeads, bk % p.kvHeads, count, m, l, acc, bk * count * g, oOut,
                lseOut));
    }

    /** Key tiles {@code [from, to)} for the query heads of KV head {@code kvHead}: partial m, l, O into row {@code at} on. */
    private void unit(AttentionProblem p, Scratch w, int b, int kvHead, int from, int to, float[] mOut, float[] lOut,
                      float[] accOut, int at) {
        int g = p.group;
        int gp = w.gPad;
        int d = p.headDim;
        int dp = p.dPad;
        // Qᵀ of the group: column r is head kvHead·g + r.
        for (int r = 0; r < g; r++) {
            int src = p.qOff + p.queryRow(b, 0, kvHead * g + r);
            for (int x = 0; x < d; x++) {
                w.qt[x * gp + r] = p.q[src + x];
            }
        }
        Arrays.fill(w.o, 0, g * dp, 0f);
        Arrays.fill(w.m, 0, g, Float.NEGATIVE_INFINITY);
        Arrays.fill(w.l, 0, g * TileMath.LANES, 0f);
        float[] s = w.s;
        float[] row = w.row;
        for (int kt = from; kt < to; kt++) {
            int j0 = kt * p.bc;
            int cols = Math.min(p.bc, p.seqK - j0);
            int colsPad = TileMath.padded(cols);
            AttentionPacking.keyTileRows(p, p.k, p.kOff, b, kvHead, j0, cols, p.scale, w.k);
            math.gemm(w.k, 0, dp, 1, w.qt, 0, gp, w.st, 0, gp, cols, gp, d, false);
            for (int r = 0; r < g; r++) {
                int h = kvHead * g + r;
                TileClasses.Tile tile = p.tiles.classify(b, h, 0, 1, kt);
                if (tile == TileClasses.Tile.SKIP) {
                    Arrays.fill(row, 0, colsPad, Float.NEGATIVE_INFINITY);
                } else {
                    for (int c = 0; c < cols; c++) {
                        row[c] = w.st[c * gp + r];
                    }
                    p.scores(row, p.bc, b, h, 0, 1, j0, colsPad, tile, null);
                }
                System.arraycopy(row, 0, s, r * p.bc, colsPad);
            }
            math.onlineSoftmax(s, p.bc, g, colsPad, w.m, w.mNew, w.l, w.o, dp);
            if (p.dropout.active()) {
                for (int r = 0; r < g; r++) {
                    p.dropout.dropRow(w.philox(p.dropout), s, r * p.bc, b, kvHead * g + r, 0, j0, cols);
                }
            }
            if (p.inPlace) {
                math.gemm(s, 0, p.bc, 1, p.v, p.vOff + p.keyRow(b, j0, kvHead), p.kStride, w.o, 0, dp, g, dp, cols, true);
            } else {
                AttentionPacking.keyTileRows(p, p.v, p.vOff, b, kvHead, j0, cols, 1f, w.v);
                math.gemm(s, 0, p.bc, 1, w.v, 0, dp, w.o, 0, dp, g, dp, cols, true);
            }
        }
        for (int r = 0; r < g; r++) {
            mOut[at + r] = w.m[r];
            lOut[at + r] = TileMath.total(w.l, r * TileMath.LANES);
        }
        System.arraycopy(w.o, 0, accOut, at * dp, g * dp);
    }

    /** The splits' partial results of the heads of KV head {@code kvHead}, combined in split order. */
    private static void combine(AttentionProblem p, int b, int kvHead, int splits, float[] m, float[] l, float[] acc,
                                int at, Span<float[]> oSpan, Span<float[]> lseSpan) {
        int g = p.group;
        int d = p.headDim;
        int dp = p.dPad;
        float[] out = oSpan.array();
        for (int r = 0; r < g; r++) {
            int h = kvHead * g + r;
            int dst = oSpan.offset() + p.queryRow(b, 0, h);
            int lseAt = lseSpan.offset() + b * p.heads + h;
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < splits; s++) {
                max = Math.max(max, m[at + s * g + r]);
            }
            float sum = 0f;
            if (max != Float.NEGATIVE_INFINITY) {
                for (int s = 0; s < splits; s++) {
                    float ms = m[at + s * g + r];
                    if (ms != Float.NEGATIVE_INFINITY) {
                        sum += Exp.exp(ms - max) * l[at + s * g + r];
                    }
                }
            }
            if (sum == 0f) {
                Arrays.fill(out, dst, dst + d, 0f);
                lseSpan.array()[lseAt] = Float.NEGATIVE_INFINITY;
                continue;
            }
            float inv = 1f / sum;
            if (splits == 1) {
                int src = (at + r) * dp;
                for (int x = 0; x < d; x++) {
                    out[dst + x] = acc[src + x] * inv;
                }
            } else {
                Arrays.fill(out, dst, dst + d, 0f);
                for (int s = 0; s < splits; s++) {
                    float ms = m[at + s * g + r];
                    if (ms == Float.NEGATIVE_INFINITY) {
                        continue;
                    }
                    float f = Exp.exp(ms - max);
                    int src = (at + s * g + r) * dp;
                    for (int x = 0; x < d; x++) {
                        out[dst + x] = Math.fma(f, acc[src + x], out[dst + x]);
                    }
                }
                for (int x = 0; x < d; x++) {
                    out[dst + x] *= inv;
                }
            }
            lseSpan.array()[lseAt] = max + (float) StrictMath.log(sum);
        }
    }

    /** Per-worker memory: O(tile · group), never O(Sk). */
    private static final class Scratch {
        final int gPad;
        final float[] qt;
        final float[] k;
        final float[] st;
        final float[] s;
        final float[] row;
        final float[] o;
        final float[] m;
        final float[] mNew;
        final float[] l;
        final float[] v;
        private Philox philox;

        Scratch(AttentionProblem p) {
            int g = p.group;
            gPad = TileMath.padded(g);
            qt = new float[p.dPad * gPad];
            row = new float[p.bc];
            k = new float[p.bc * p.dPad];
            st = new float[p.bc * gPad];
            s = new float[g * p.bc];
            o = new float[g * p.dPad];
            m = new float[g];
            mNew = new float[g];
            l = new float[g * TileMath.LANES];
            v = p.inPlace ? null : new float[p.bc * p.dPad];
        }

        Philox philox(AttentionDropout dropout) {
            if (philox == null) {
                philox = dropout.philox();
            }
            return philox;
        }
    }
}
