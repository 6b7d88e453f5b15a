package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;

import java.util.Arrays;

/**
 * Exact attention in the FlashAttention-2 way (Dao, 2023), on the heap: the {@code Sq × Sk} matrix is never
 * held; only {@link #BR}×{@link #BC} tiles of it, per worker.
 *
 * <p><b>Forward.</b> A work item is one head's query tiles (or an interleaved share of them when there are
 * fewer heads than workers), largest causal cost first, handed out dynamically. Each worker packs the K of
 * the KV head it is on once, transposed and pre-scaled ({@code scale·Kᵀ}, {@code [D][Sk]}); Q, and V when D
 * is a multiple of 16, are read in place. Per key tile it computes {@code S = Q·(scale·Kᵀ)}, applies
 * {@link ScoreRules} (softcap, biases, masks) on partial tiles, and updates the running row max {@code m},
 * row sum {@code l} and the unnormalised output (online softmax). Key tiles no row of the query tile can see
 * are never visited, and on edge tiles only the 16-column groups some row can see are computed. Rows that
 * see no key end as {@code o = 0}, {@code lse = −∞} (docs/design.md §4.6).
 *
 * <p><b>Backward.</b> Work units are (batch, KV head, key-tile chunk); a unit owns its dK/dV tiles outright,
 * so they need no synchronisation. Per key tile and query tile it recomputes {@code S} exactly as the
 * forward did and {@code P = exp(S − lse)}, then {@code dV += Pᵀ·dO}, {@code dP = dO·Vᵀ},
 * {@code dS = P∘(dP − D)} with {@code D = rowsum(dO∘O)}, {@code dK += scale·dSᵀ·Q}, {@code dQ += scale·dS·K}.
 * dQ is summed per chunk and the chunks are reduced in a fixed order; the number of chunks depends only on
 * the problem's shape, so the backward is deterministic — bit-identical run to run and across thread
 * counts — whether or not {@code deterministic} is requested.
 *
 * <p>Every product of a tile goes through one micro-kernel, {@link TileMath#gemm}.
 */
final class TiledCpuAttention implements AttentionPort {
    /** Query rows per tile. */
    static final int BR = 64;
    /** Key columns per tile; a multiple of {@link TileMath#LANES}. */
    static final int BC = 128;
    /** Forward work items wanted per worker thread (the forward's partition does not affect its results). */
    private static final int FORWARD_ITEMS_PER_THREAD = 2;
    /** Backward work units wanted, whatever the thread count, so the partition is shape-only. */
    private static final int TARGET_UNITS = 8;
    /** Cap on the memory (floats) of per-chunk dQ partial sums. */
    private static final long DQ_PARTIAL_BUDGET = 64L << 20;

    private final CpuEngine engine;
    private final WorkerPool pool;
    private final TileMath math;

    TiledCpuAttention(CpuEngine engine, WorkerPool pool, TileMath math) {
        this.engine = engine;
        this.pool = pool;
        this.math = math;
    }

    // ---------------------------------------------------------------------------------------------- forward

    @Override
    public AttentionResult forward(AttentionRequest request) {
        Problem p = new Problem(request.shape(), request.options(), (CpuTensor) request.q(), (CpuTensor) request.k(),
                (CpuTensor) request.v());
        CpuTensor o = engine.newFloats(p.shape.queryShape(request.options().layout()));
        CpuTensor lse;
        try {
            lse = engine.newFloats(p.shape.lseShape());
        } catch (RuntimeException | Error e) {
            o.close();
            throw e;
        }
        try {
            runForward(p, o, lse);
            engine.requireOpen("attention forward");
            return new AttentionResult(o, lse);
        } catch (RuntimeException | Error e) {
            // Interrupted, closed or failed: the outputs never reach the caller, so they are freed here.
            o.close();
            lse.close();
            throw e;
        }
    }

    private void runForward(Problem p, CpuTensor o, CpuTensor lse) {
        Span<float[]> oOut = o.f32();
        Span<float[]> lseOut = lse.f32();
        ForwardScratch[] scratch = new ForwardScratch[pool.threads()];
        // An item is one head's query tiles, or an interleaved share of them when there are too few heads to
        // keep every worker busy: each item packs its KV head once, and interleaving evens out causal costs.
        int heads = p.batch * p.heads;
        int shares = Math.min(p.queryTiles, Math.max(1, (FORWARD_ITEMS_PER_THREAD * pool.threads() + heads - 1) / heads));
        pool.forEach(heads * shares, (worker, item) -> {
            if (scratch[worker] == null) {
                scratch[worker] = new ForwardScratch(p);
            }
            int bh = item / shares;
            int share = item % shares;
            // Query tiles in descending order: with a causal mask the last tiles cost most.
            for (int qt = p.queryTiles - 1 - share; qt >= 0; qt -= shares) {
                forwardTile(p, scratch[worker], bh / p.heads, bh % p.heads, qt, oOut, lseOut);
            }
        });
    }

    private void forwardTile(Problem p, ForwardScratch w, int b, int h, int qt, Span<float[]> oSpan,
                             Span<float[]> lseSpan) {
        float[] out = oSpan.array();
        float[] lseOut = lseSpan.array();
        int kvHead = h / p.group;
        w.packKeys(p, b, kvHead);
        int i0 = qt * BR;
        int rows = Math.min(BR, p.seqQ - i0);
        int dp = p.dPad;
        ScoreRules rules = p.rules;
        float[] acc = w.o;
        Arrays.fill(acc, 0, rows * dp, 0f);
        Arrays.fill(w.m, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(w.l, 0, rows * TileMath.LANES, 0f);

        int keyBegin = rules.rowBegin(i0);
        int keyEnd = rules.rowEnd(i0 + rows - 1);
        for (int kt = keyBegin / BC; kt * BC < keyEnd; kt++) {
            forwardBlock(p, w, b, h, i0, rows, kt, rules.classify(b, h, i0, rows, kt));
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
    private void forwardBlock(Problem p, ForwardScratch w, int b, int h, int i0, int rows, int kt,
                              ScoreRules.Tile tile) {
        if (tile == ScoreRules.Tile.SKIP) {
            return;
        }
        ScoreRules rules = p.rules;
        int keyBegin = rules.rowBegin(i0);
        // On a causal or window edge only the columns some row of the tile can see are computed, in
        // groups of LANES: j0 is where the computed columns start, colsPad how many there are.
        int jEnd = Math.min((kt + 1) * BC, rules.rowEnd(i0 + rows - 1));
        int jOpen = tile == ScoreRules.Tile.PARTIAL
                ? rules.firstOpenColumn(b, h, i0, rows, Math.max(kt * BC, keyBegin), jEnd) : keyBegin;
        if (jOpen >= jEnd) {
            return;
        }
        int j0 = Math.max(kt * BC, jOpen / TileMath.LANES * TileMath.LANES);
        int colsPad = TileMath.padded(jEnd - j0);
        int dp = p.dPad;
        float[] s = w.s;
        float[] acc = w.o;
        // Q is read in place (row stride H·D, reduction over the D real features); the softmax scale was
        // folded into the packed Kᵀ, so the tile needs no copy of its own.
        int qAt = p.qOff + p.queryRow(b, i0, h);
        math.gemm(p.q, qAt, p.qStride, 1, w.kt, j0, p.seqKPad, s, 0, BC, rows, colsPad, p.headDim, false);
        rules.apply(s, BC, b, h, i0, rows, j0, colsPad, tile, null);
        for (int r = 0; r < rows; r++) {
            int so = r * BC;
            float rowMax = math.max(s, so, colsPad);
            float mOld = w.m[r];
            float mNew = Math.max(mOld, rowMax);
            if (mNew == Float.NEGATIVE_INFINITY) {
                // Nothing visible in this row yet: contribute nothing (avoids exp(−∞ + ∞)).
                Arrays.fill(s, so, so + colsPad, 0f);
                continue;
            }
            float alpha = 1f;
            if (mOld != Float.NEGATIVE_INFINITY && mOld != mNew) {
                alpha = Exp.exp(mOld - mNew);
                math.scale(acc, r * dp, dp, alpha);
            }
            math.expShiftAccumulate(s, so, colsPad, mNew, w.l, r * TileMath.LANES, alpha);
            w.m[r] = mNew;
            if (rules.hasDropout()) {
                // l sums the undropped probabilities (lse is that of the scores); only o sees dropout.
                rules.dropRow(w.philox(rules), s, so, b, h, i0 + r, j0, Math.min(colsPad, p.seqK - j0));
            }
        }
        // Rows of V past Sk are never read: the reduction stops at the last real key.
        int keys = Math.min(colsPad, p.seqK - j0);
        int kvHead = h / p.group;
        if (p.inPlace) {
            math.gemm(s, 0, BC, 1, p.v, p.vOff + p.keyRow(b, j0, kvHead), p.kStride, acc, 0, dp, rows, dp, keys, true);
        } else {
            math.gemm(s, 0, BC, 1, w.v, j0 * dp, dp, acc, 0, dp, rows, dp, keys, true);
        }
    }

    /** Per-worker forward memory: O(tile) plus one packed KV head (O(Sk·D), never O(S²)). */
    private static final class ForwardScratch {
        final float[] s;
        final float[] o;
        final float[] m = new float[BR];
        /** Per row, {@link TileMath#LANES} partial sums of the softmax denominator. */
        final float[] l = new float[BR * TileMath.LANES];
        final float[] kt;
        final float[] v;
        private int packedBatch = -1;
        private int packedHead = -1;
        private Philox philox;

        ForwardScratch(Problem p) {
            s = new float[BR * BC];
            o = new float[BR * p.dPad];
            kt = new float[p.dPad * p.seqKPad];
            v = p.inPlace ? null : new float[p.seqKPad * p.dPad];
        }

        Philox philox(ScoreRules rules) {
            if (philox == null) {
                philox = rules.philox();
            }
            return philox;
        }

        void packKeys(Problem p, int b, int kvHead) {
            if (b == packedBatch && kvHead == packedHead) {
                return;
            }
            p.packTransposed(p.k, p.kOff, b, kvHead, p.scale, kt);
            if (v != null) {
                p.packKeyRows(p.v, p.vOff, b, kvHead, v);
            }
            packedBatch = b;
            packedHead = kvHead;
        }
    }

    // --------------------------------------------------------------------------------------------- backward

    @Override
    public AttentionGradients backward(AttentionBackwardRequest request) {
        Problem p = new Problem(request.shape(), request.options(), (CpuTensor) request.q(), (CpuTensor) request.k(),
                (CpuTensor) request.v());
        Span<float[]> dO = ((CpuTensor) request.dO()).f32();
        Span<float[]> o = ((CpuTensor) request.o()).f32();
        Span<float[]> lse = ((CpuTensor) request.lse()).f32();
        AttentionLayout layout = request.options().layout();
        java.util.List<CpuTensor> made = new java.util.ArrayList<>(4);
        try {
            CpuTensor dq = made(made, p.shape.queryShape(layout));
            CpuTensor dk = made(made, p.shape.keyShape(layout));
            CpuTensor dv = made(made, p.shape.keyShape(layout));
            CpuTensor dTable = request.options().biasTableGrad() ? made(made, p.shape.biasTableShape()) : null;
            runBackward(p, request, dO, o, lse, dq, dk, dv, dTable);
            engine.requireOpen("attention backward");
            return new AttentionGradients(dq, dk, dv, dTable);
        } catch (RuntimeException | Error e) {
            // The gradients never reach the caller: free them.
            made.forEach(CpuTensor::close);
            throw e;
        }
    }

    private CpuTensor made(java.util.List<CpuTensor> made, dev.attn4j.ports.tensor.Shape shape) {
        CpuTensor t = engine.newFloats(shape);
        made.add(t);
        return t;
    }

    private void runBackward(Problem p, AttentionBackwardRequest request, Span<float[]> dO, Span<float[]> o,
                             Span<float[]> lse, CpuTensor dq, CpuTensor dk, CpuTensor dv, CpuTensor dTable) {
        Span<float[]> dqOut = dq.f32();
        Span<float[]> dkOut = dk.f32();
        Span<float[]> dvOut = dv.f32();

        int chunks = p.chunks();
        // With one chunk a unit owns its heads' dQ rows outright; otherwise each chunk sums into its own
        // slab and the slabs are added in chunk order below.
        float[] dqPartial = chunks == 1 ? null : new float[Math.multiplyExact(chunks, (int) p.shape.queryShape().elementCount())];
        BackwardScratch[] scratch = new BackwardScratch[pool.threads()];
        int units = p.batch * p.kvHeads * chunks;
        // The bias-table gradient sums over batch, rows and chunks: each unit fills its own slab (one row of
        // the table per head of its group) and the slabs are added in unit order, keeping it deterministic.
        boolean tableGrad = request.options().biasTableGrad();
        int tableSlab = p.group * p.rules.tableWidth();
        float[] dTablePartial = tableGrad ? new float[Math.multiplyExact(units, tableSlab)] : null;
        pool.forEach(units, (worker, unit) -> {
            if (scratch[worker] == null) {
                scratch[worker] = new BackwardScratch(p);
            }
            int chunk = unit % chunks;
            int bk = unit / chunks;
            int b = bk / p.kvHeads;
            int kvHead = bk % p.kvHeads;
            float[] dqTarget = chunks == 1 ? dqOut.array() : dqPartial;
            int dqBase = chunks == 1 ? dqOut.offset() : chunk * (int) p.shape.queryShape().elementCount();
            backwardUnit(p, scratch[worker], b, kvHead, chunk, chunks, dO, o, lse, dqTarget, dqBase,
                    dkOut, dvOut, dTablePartial, unit * tableSlab);
        });
        if (dqPartial != null) {
            reduceChunks(dqPartial, chunks, dqOut);
        }
        if (tableGrad) {
            Span<float[]> tableOut = dTable.f32();
            float[] t = tableOut.array();
            int width = p.rules.tableWidth();
            for (int unit = 0; unit < units; unit++) {
                int kvHead = (unit / chunks) % p.kvHeads;
                for (int g = 0; g < p.group; g++) {
                    int h = kvHead * p.group + g;
                    int src = unit * tableSlab + g * width;
                    for (int x = 0; x < width; x++) {
                        t[tableOut.offset() + h * width + x] += dTablePartial[src + x];
                    }
                }
            }
        }
    }

    private void reduceChunks(float[] partial, int chunks, Span<float[]> dqOut) {
        float[] dq = dqOut.array();
        int at = dqOut.offset();
        int n = dqOut.length();
        int slice = 1 << 16;
        pool.forEach((n + slice - 1) / slice, s -> {
            int from = s * slice;
            int to = Math.min(n, from + slice);
            for (int c = 0; c < chunks; c++) {
                int base = c * n;
                for (int x = from; x < to; x++) {
                    dq[at + x] += partial[base + x];
                }
            }
        });
    }

    private void backwardUnit(Problem p, BackwardScratch w, int b, int kvHead, int chunk, int chunks,
                              Span<float[]> dO, Span<float[]> o, Span<float[]> lse, float[] dqOut, int dqBase,
                              Span<float[]> dkOut, Span<float[]> dvOut, float[] dTable, int dTableBase) {
        int dp = p.dPad;
        int d = p.headDim;
        int sqPad = p.seqQPad;
        ScoreRules rules = p.rules;
        // The group's Q and dO rows are packed once per unit: contiguous, zero-padded rows make the five
        // products of each tile measurably faster than reading the [B, S, H, D] layout in place (155 vs 133 ms
        // at S=2048, H=8, D=64); dQ is summed in a packed buffer too.
        for (int g = 0; g < p.group; g++) {
            int h = kvHead * p.group + g;
            // Block by block, so that D reads the packed dO rows while they are still in L1.
            for (int i0 = 0; i0 < p.seqQ; i0 += BR) {
                int rows = Math.min(BR, p.seqQ - i0);
                int at = (g * sqPad + i0) * dp;
                p.packQueryRows(p.q, p.qOff, b, h, i0, rows, 1f, w.qs, at);
                p.packQueryRows(dO.array(), dO.offset(), b, h, i0, rows, 1f, w.dO, at);
                rowDots(w.dO, at, dp, o.array(), o.offset() + p.queryRow(b, i0, h), p.qStride, rows, d,
                        w.dRow, g * sqPad + i0);
            }
            System.arraycopy(lse.array(), lse.offset() + (b * p.heads + h) * p.seqQ, w.lse, g * sqPad, p.seqQ);
        }
        Arrays.fill(w.dq, 0f);
        Philox philox = rules.hasDropout() ? rules.philox() : null;

        for (int kt = chunk; kt < p.keyTiles; kt += chunks) {
            int j0 = kt * BC;
            int cols = Math.min(BC, p.seqK - j0);
            int rowFrom = rules.firstRow(j0);
            int rowTo = rules.endRow(j0 + cols);
            if (rowFrom >= rowTo) {
                continue;
            }
            w.packKeyTile(p, b, kvHead, j0, cols);
            Arrays.fill(w.dk, 0f);
            Arrays.fill(w.dv, 0f);
            for (int g = 0; g < p.group; g++) {
                int h = kvHead * p.group + g;
                for (int i0 = rowFrom / BR * BR; i0 < rowTo; i0 += BR) {
                    int rows = Math.min(BR, p.seqQ - i0);
                    backwardBlock(p, w, b, g, h, kt, cols, i0, rows, rules.classify(b, h, i0, rows, kt), philox,
                            dTable, dTableBase);
                }
            }
            float scale = p.scale;
            for (int c = 0; c < cols; c++) {
                int row = p.keyRow(b, j0 + c, kvHead);
                int dst = dkOut.offset() + row;
                for (int x = 0; x < d; x++) {
                    dkOut.array()[dst + x] = w.dk[c * dp + x] * scale;
                }
                System.arraycopy(w.dv, c * dp, dvOut.array(), dvOut.offset() + row, d);
            }
        }
        float scale = p.scale;
        for (int g = 0; g < p.group; g++) {
            int h = kvHead * p.group + g;
            for (int i = 0; i < p.seqQ; i++) {
                int dst = dqBase + p.queryRow(b, i, h);
                int src = (g * sqPad + i) * dp;
                // An empty row (lse = -inf) has no gradient; its dS row is 0, but 0 times a non-finite k in
                // dS·K would still make it NaN (the non-finite rule gives empty rows zero gradients).
                if (w.lse[g * sqPad + i] == Float.NEGATIVE_INFINITY) {
                    Arrays.fill(dqOut, dst, dst + d, 0f);
                    continue;
                }
                for (int x = 0; x < d; x++) {
                    dqOut[dst + x] = w.dq[src + x] * scale;
                }
            }
        }
    }

    /**
     * Query tile {@code i0} ({@code rows} rows) of query-side head {@code h} (group member {@code g}) against the
     * unit's packed key tile {@code kt} of {@code cols} keys: the five products, adding into its dK, dV and dQ.
     */
    private void backwardBlock(Problem p, BackwardScratch w, int b, int g, int h, int kt, int cols, int i0, int rows,
                               ScoreRules.Tile tile, Philox philox, float[] dTable, int dTableBase) {
        if (tile == ScoreRules.Tile.SKIP) {
            return;
        }
        ScoreRules rules = p.rules;
        int dp = p.dPad;
        int d = p.headDim;
        int sqPad = p.seqQPad;
        int j0 = kt * BC;
        int qAt = (g * sqPad + i0) * dp;
        // Near a causal or window edge the tile's rows see only part of the key tile: columns
        // c0 .. c0+colsPad of it (c0 a multiple of LANES) are computed.
        int cEnd = Math.min(cols, rules.rowEnd(i0 + rows - 1) - j0);
        int open = rules.rowBegin(i0);
        if (tile == ScoreRules.Tile.PARTIAL) {
            open = rules.firstOpenColumn(b, h, i0, rows, Math.max(j0, open), j0 + cEnd);
            if (open >= j0 + cEnd) {
                return;
            }
        }
        int c0 = Math.max(0, (open - j0) / TileMath.LANES * TileMath.LANES);
        int colsPad = TileMath.padded(cEnd - c0);
        int jc = j0 + c0;
        float[] s = w.s;
        float[] ds = w.ds;
        // S = Q·(scale·Kᵀ), in the forward's order, so P = exp(S − lse) recomputes its probabilities.
        math.gemm(w.qs, qAt, dp, 1, w.kt, c0, BC, s, 0, BC, rows, colsPad, d, false);
        rules.apply(s, BC, b, h, i0, rows, jc, colsPad, tile, rules.hasSoftcap() ? w.tanh : null);
        for (int r = 0; r < rows; r++) {
            float rowLse = w.lse[g * sqPad + i0 + r];
            int so = r * BC;
            if (rowLse == Float.NEGATIVE_INFINITY) {
                Arrays.fill(s, so, so + colsPad, 0f);
            } else {
                math.expShift(s, so, colsPad, rowLse);
            }
        }
        // With dropout, o used P∘Z/(1-p): dV and dP see the dropped P, dS the undropped one.
        float[] pv = s;
        if (philox != null) {
            pv = w.pd;
            for (int r = 0; r < rows; r++) {
                rules.keepFactors(philox, w.keep, r * BC, b, h, i0 + r, jc, Math.min(colsPad, cols - c0), colsPad);
            }
            for (int x = 0; x < rows * BC; x++) {
                pv[x] = s[x] * w.keep[x];
            }
        }
        // dV += Pᵀ·dO
        math.gemm(pv, 0, 1, BC, w.dO, qAt, dp, w.dv, c0 * dp, dp, colsPad, dp, rows, true);
        // dP = dO·Vᵀ (an fma chain over d, as rowDots sums D), then dS = P∘(dP∘Z/(1-p) − D)
        math.gemm(w.dO, qAt, dp, 1, w.vt, c0, BC, ds, 0, BC, rows, colsPad, d, false);
        if (philox != null) {
            for (int x = 0; x < rows * BC; x++) {
                ds[x] *= w.keep[x];
            }
        }
        for (int r = 0; r < rows; r++) {
            math.softmaxGrad(s, ds, r * BC, colsPad, w.dRow[g * sqPad + i0 + r]);
        }
        if (dTable != null) {
            // The table is added after the softcap, so its gradient is dS itself.
            for (int r = 0; r < rows; r++) {
                int t = dTableBase + g * rules.tableWidth() + rules.tableIndex(0, i0 + r, jc);
                int so = r * BC;
                int n = Math.min(colsPad, cols - c0);
                for (int c = 0; c < n; c++) {
                    dTable[t + c] += ds[so + c];
                }
            }
        }
        if (rules.hasSoftcap()) {
            // d(c·tanh(x/c))/dx = 1 − tanh²(x/c)
            for (int r = 0; r < rows; r++) {
                int so = r * BC;
                for (int c = 0; c < colsPad; c++) {
                    float t = w.tanh[so + c];
                    ds[so + c] *= 1f - t * t;
                }
            }
        }
        // dK += dSᵀ·Q;  dQ += dS·K (both scaled once, at the end)
        math.gemm(ds, 0, 1, BC, w.qs, qAt, dp, w.dk, c0 * dp, dp, colsPad, dp, rows, true);
        math.gemm(ds, 0, BC, 1, w.k, c0 * dp, dp, w.dq, qAt, dp, rows, dp, colsPad, true);
    }

    /**
     * {@code D_i = dO_i·o_i} for {@code rows} rows ({@code dO} rows {@code dOStride} apart, {@code o} rows
     * {@code oStride} apart), each as one fma chain in index order, the order in which {@link TileMath#gemm}
     * accumulates each {@code dP_ij = dO_i·v_j}. Where a row sees a single key, {@code o_i = v_j} exactly,
     * so {@code dP_ij − D_i} cancels to exactly 0 as it does in real arithmetic, instead of leaving fp32
     * noise that the gradients would amplify. Four rows' chains run side by side: one chain alone waits on
     * the fma latency at every step.
     */
    private static void rowDots(float[] dO, int dOAt, int dOStride, float[] o, int oAt, int oStride, int rows,
                                int d, float[] out, int outAt) {
        int i = 0;
        for (; i + 4 <= rows; i += 4) {
            int a0 = dOAt + i * dOStride;
            int a1 = a0 + dOStride;
            int a2 = a1 + dOStride;
            int a3 = a2 + dOStride;
            int b0 = oAt + i * oStride;
            int b1 = b0 + oStride;
            int b2 = b1 + oStride;
            int b3 = b2 + oStride;
            float s0 = 0f;
            float s1 = 0f;
            float s2 = 0f;
            float s3 = 0f;
            for (int x = 0; x < d; x++) {
                s0 = Math.fma(dO[a0 + x], o[b0 + x], s0);
                s1 = Math.fma(dO[a1 + x], o[b1 + x], s1);
                s2 = Math.fma(dO[a2 + x], o[b2 + x], s2);
                s3 = Math.fma(dO[a3 + x], o[b3 + x], s3);
            }
            out[outAt + i] = s0;
            out[outAt + i + 1] = s1;
            out[outAt + i + 2] = s2;
            out[outAt + i + 3] = s3;
        }
        for (; i < rows; i++) {
            int a = dOAt + i * dOStride;
            int c = oAt + i * oStride;
            float acc = 0f;
            for (int x = 0; x < d; x++) {
                acc = Math.fma(dO[a + x], o[c + x], acc);
            }
            out[outAt + i] = acc;
        }
    }

    /** Per-worker backward memory: the unit's packed Q, dO and dQ (O(Sq·D) per head of the group) plus tiles. */
    private static final class BackwardScratch {
        final float[] qs;
        final float[] dO;
        final float[] dq;
        final float[] lse;
        final float[] dRow;
        final float[] k;
        final float[] kt;
        final float[] vt;
        final float[] dk;
        final float[] dv;
        final float[] s = new float[BR * BC];
        final float[] ds = new float[BR * BC];
        final float[] pd = new float[BR * BC];
        final float[] keep = new float[BR * BC];
        final float[] tanh = new float[BR * BC];

        BackwardScratch(Problem p) {
            int rows = p.group * p.seqQPad;
            qs = new float[rows * p.dPad];
            dO = new float[rows * p.dPad];
            dq = new float[rows * p.dPad];
            lse = new float[rows];
            dRow = new float[rows];
            k = new float[BC * p.dPad];
            kt = new float[p.dPad * BC];
            vt = new float[p.dPad * BC];
            dk = new float[BC * p.dPad];
            dv = new float[BC * p.dPad];
        }

        void packKeyTile(Problem p, int b, int kvHead, int j0, int cols) {
            int d = p.headDim;
            int dp = p.dPad;
            if (cols < BC || d < dp) {
                // Only a last, short tile or padded features leave parts of the buffers unwritten.
                Arrays.fill(k, 0f);
                Arrays.fill(kt, 0f);
                Arrays.fill(vt, 0f);
            }
            int stride = p.kStride;
            int base = p.keyRow(b, j0, kvHead);
            int kBase = p.kOff + base;
            int vBase = p.vOff + base;
            for (int c = 0; c < cols; c++) {
                System.arraycopy(p.k, kBase + c * stride, k, c * dp, d);
            }
            // Transposed copies in blocks of LANES keys, so reads and writes each stay within a few lines;
            // Kᵀ is read from the row copy just made, which is in L1.
            for (int c0 = 0; c0 < cols; c0 += TileMath.LANES) {
                int c1 = Math.min(cols, c0 + TileMath.LANES);
                for (int x = 0; x < d; x++) {
                    int to = x * BC;
                    for (int c = c0; c < c1; c++) {
                        kt[to + c] = k[c * dp + x] * p.scale;
                        vt[to + c] = p.v[vBase + c * stride + x];
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- problem

    /** One call's sizes, inputs and mask rules, shared read-only by all workers. */
    private static final class Problem {
        final AttentionShape shape;
        final int batch;
        final int seqQ;
        final int seqK;
        final int heads;
        final int kvHeads;
        final int group;
        final int headDim;
        final int dPad;
        final int seqQPad;
        final int seqKPad;
        final int queryTiles;
        final int keyTiles;
        final int offset;
        final ScoreRules rules;
        final float scale;
        /** Rows of D floats are whole vectors of LANES: the forward reads V in place instead of packing it. */
        final boolean inPlace;
        /**
         * The tensors are {@code [B, H, S, D]} (PyTorch's layout) rather than {@code [B, S, H, D]}: only where a
         * head's rows start and how far apart they are changes ({@link #queryRow}, {@link #qStride}); every
         * kernel reads rows of D floats by those, so neither layout is ever copied into the other.
         */
        final boolean bhsd;
        /** Distance between consecutive rows (positions) of one head of q, o, dO, dq: H·D in BSHD, D in BHSD. */
        final int qStride;
        /** Distance between consecutive rows of one KV head of k, v, dk, dv: Hkv·D in BSHD, D in BHSD. */
        final int kStride;
        // q, k, v may be views: each array comes with the offset of its tensor's element 0, added to every index.
        final float[] q;
        final int qOff;
        final float[] k;
        final int kOff;
        final float[] v;
        final int vOff;

        Problem(AttentionShape shape, AttentionOptions options, CpuTensor q, CpuTensor k, CpuTensor v) {
            this.shape = shape;
            this.batch = shape.batch();
            this.seqQ = shape.seqQ();
            this.seqK = shape.seqK();
            this.heads = shape.heads();
            this.kvHeads = shape.kvHeads();
            this.group = shape.groupSize();
            this.headDim = shape.headDim();
            this.dPad = TileMath.padded(headDim);
            this.seqQPad = TileMath.padded(seqQ);
            this.seqKPad = (seqK + BC - 1) / BC * BC;
            this.queryTiles = (seqQ + BR - 1) / BR;
            this.keyTiles = (seqK + BC - 1) / BC;
            this.offset = shape.offset();
            this.rules = new ScoreRules(shape, options, BC);
            this.inPlace = headDim == dPad;
            this.bhsd = options.layout() == AttentionLayout.BHSD;
            this.qStride = bhsd ? headDim : heads * headDim;
            this.kStride = bhsd ? headDim : kvHeads * headDim;
            this.scale = (float) options.scaleFor(headDim);
            Span<float[]> qs = q.f32();
            Span<float[]> ks = k.f32();
            Span<float[]> vs = v.f32();
            this.q = qs.array();
            this.qOff = qs.offset();
            this.k = ks.array();
            this.kOff = ks.offset();
            this.v = vs.array();
            this.vOff = vs.offset();
        }

        /** Index of key row {@code j} of KV head {@code kvHead} in a k, v, dk or dv tensor of the call's layout (add its offset). */
        int keyRow(int b, int j, int kvHead) {
            return bhsd ? ((b * kvHeads + kvHead) * seqK + j) * headDim : ((b * seqK + j) * kvHeads + kvHead) * headDim;
        }

        /** Index of query row {@code i} of head {@code h} in a q, o, dO or dq tensor of the call's layout (add its offset). */
        int queryRow(int b, int i, int h) {
            return bhsd ? ((b * heads + h) * seqQ + i) * headDim : ((b * seqQ + i) * heads + h) * headDim;
        }

        /** The backward's key-tile chunks: enough units for any thread count, a function of shape only. */
        int chunks() {
            int units = batch * kvHeads;
            int chunks = Math.max(1, Math.min(keyTiles, (TARGET_UNITS + units - 1) / units));
            long slab = shape.queryShape().elementCount();
            while (chunks > 1 && chunks * slab > DQ_PARTIAL_BUDGET) {
                chunks--;
            }
            return chunks;
        }

        /** Rows {@code i0..i0+rows} of query-side head {@code h} (q or dO layout), scaled, into {@code dst[rows][dPad]}. */
        void packQueryRows(float[] src, int srcOff, int b, int h, int i0, int rows, float factor, float[] dst,
                           int dstOff) {
            packRows(src, srcOff + queryRow(b, i0, h), qStride, rows, factor, dst, dstOff);
        }

        /** All rows of KV head {@code kvHead} of a k or v array into {@code dst[Sk][dPad]}. */
        void packKeyRows(float[] src, int srcOff, int b, int kvHead, float[] dst) {
            packRows(src, srcOff + keyRow(b, 0, kvHead), kStride, seqK, 1f, dst, 0);
        }

        /** {@code rows} rows of D floats, {@code stride} apart from {@code first}, into {@code dst[rows][dPad]}. */
        private void packRows(float[] src, int first, int stride, int rows, float factor, float[] dst, int dstOff) {
            for (int r = 0; r < rows; r++) {
                int from = first + r * stride;
                int to = dstOff + r * dPad;
                for (int x = 0; x < headDim; x++) {
                    dst[to + x] = src[from + x] * factor;
                }
                Arrays.fill(dst, to + headDim, to + dPad, 0f);
            }
        }

        /**
         * K of one KV head times {@code factor}, transposed into {@code [dPad][seqKPad]} with zero padding. Blocks
         * of {@link TileMath#LANES} keys keep both the reads (a few rows) and the writes (one line per
         * feature) within a few cache lines.
         */
        void packTransposed(float[] src, int srcOff, int b, int kvHead, float factor, float[] dst) {
            // Only the padding needs clearing (the rest is written below): keys past Sk, features past D.
            for (int x = 0; x < headDim; x++) {
                Arrays.fill(dst, x * seqKPad + seqK, (x + 1) * seqKPad, 0f);
            }
            Arrays.fill(dst, headDim * seqKPad, dPad * seqKPad, 0f);
            int stride = kStride;
            int base = srcOff + keyRow(b, 0, kvHead);
            for (int j0 = 0; j0 < seqK; j0 += TileMath.LANES) {
                int j1 = Math.min(seqK, j0 + TileMath.LANES);
                for (int x = 0; x < headDim; x++) {
                    int to = x * seqKPad;
                    for (int j = j0; j < j1; j++) {
                        dst[to + j] = src[base + j * stride + x] * factor;
                    }
                }
            }
        }
    }
}
