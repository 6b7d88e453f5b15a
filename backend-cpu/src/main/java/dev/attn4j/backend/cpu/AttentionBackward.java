package dev.attn4j.backend.cpu;

import java.util.Arrays;

import static dev.attn4j.backend.cpu.AttentionProblem.BR;

/**
 * The tiled backward (FlashAttention-2, Dao 2023). Work units are (batch, KV head, part of its query-head group,
 * key-tile chunk); a unit owns its dK/dV tiles (or its split's partial sums of them) outright, so they need no
 * synchronisation. Per key tile and query tile it recomputes {@code S}
 * exactly as the forward did and {@code P = exp(S − lse)}, then {@code dV += Pᵀ·dO}, {@code dP = dO·Vᵀ},
 * {@code dS = P∘(dP − D)} with {@code D = rowsum(dO∘O)}, {@code dK += scale·dSᵀ·Q}, {@code dQ += scale·dS·K}.
 * dQ is summed per chunk, dK and dV per head split, and the parts are reduced in a fixed order; the numbers of
 * chunks and splits depend only on the problem's shape ({@link AttentionProblem#chunks},
 * {@link AttentionProblem#headSplits}), so the backward is deterministic — bit-identical run to run and across
 * thread counts — whether or not {@code deterministic} is requested.
 */
final class AttentionBackward {
    private final WorkerPool pool;
    private final TileMath math;

    AttentionBackward(WorkerPool pool, TileMath math) {
        this.pool = pool;
        this.math = math;
    }

    void run(AttentionProblem p, boolean tableGrad, Span<float[]> dO, Span<float[]> o, Span<float[]> lse, CpuTensor dq,
             CpuTensor dk, CpuTensor dv, CpuTensor dTable) {
        Span<float[]> dqOut = dq.f32();
        Span<float[]> dkOut = dk.f32();
        Span<float[]> dvOut = dv.f32();

        int splits = p.headSplits();
        int chunks = p.chunks();
        // With one chunk a unit owns its heads' dQ rows outright; otherwise each chunk sums into its own
        // slab and the slabs are added in chunk order below. Likewise dK and dV with one head split.
        int qSlab = (int) p.shape.queryShape().elementCount();
        int kSlab = (int) p.shape.keyShape().elementCount();
        float[] dqPartial = chunks == 1 ? null : new float[Math.multiplyExact(chunks, qSlab)];
        float[] dkPartial = splits == 1 ? null : new float[Math.multiplyExact(splits, kSlab)];
        float[] dvPartial = splits == 1 ? null : new float[Math.multiplyExact(splits, kSlab)];
        Scratch[] scratch = new Scratch[pool.threads()];
        int units = Math.multiplyExact(p.batch * p.kvHeads, splits * chunks);
        int heads = p.group / splits;
        // The bias-table gradient sums over batch, rows and chunks: each unit fills its own slab (one row of
        // the table per head it holds) and the slabs are added in unit order, keeping it deterministic.
        int tableSlab = heads * p.biases.tableWidth();
        float[] dTablePartial = tableGrad ? new float[Math.multiplyExact(units, tableSlab)] : null;
        pool.forEach(units, (worker, unit) -> {
            if (scratch[worker] == null) {
                scratch[worker] = new Scratch(p, chunks);
            }
            int chunk = unit % chunks;
            int split = unit / chunks % splits;
            int bk = unit / chunks / splits;
            int b = bk / p.kvHeads;
            int kvHead = bk % p.kvHeads;
            Span<float[]> dqTarget = chunks == 1 ? dqOut : new Span<>(dqPartial, chunk * qSlab, qSlab);
            Span<float[]> dkTarget = splits == 1 ? dkOut : new Span<>(dkPartial, split * kSlab, kSlab);
            Span<float[]> dvTarget = splits == 1 ? dvOut : new Span<>(dvPartial, split * kSlab, kSlab);
            unit(p, scratch[worker], b, kvHead, kvHead * p.group + split * heads, heads, chunk, chunks, dO, o, lse,
                    dqTarget, dkTarget, dvTarget, dTablePartial, unit * tableSlab);
        });
        if (dqPartial != null) {
            reduce(dqPartial, chunks, dqOut);
        }
        if (dkPartial != null) {
            reduce(dkPartial, splits, dkOut);
            reduce(dvPartial, splits, dvOut);
        }
        if (tableGrad) {
            Span<float[]> tableOut = dTable.f32();
            float[] t = tableOut.array();
            int width = p.biases.tableWidth();
            for (int unit = 0; unit < units; unit++) {
                int split = unit / chunks % splits;
                int kvHead = unit / chunks / splits % p.kvHeads;
                for (int g = 0; g < heads; g++) {
                    int h = kvHead * p.group + split * heads + g;
                    int src = unit * tableSlab + g * width;
                    for (int x = 0; x < width; x++) {
                        t[tableOut.offset() + h * width + x] += dTablePartial[src + x];
                    }
                }
            }
        }
    }

    /** Adds {@code parts} slabs of {@code partial}, in slab order, into {@code out} (whose elements are 0). */
    private void reduce(float[] partial, int parts, Span<float[]> out) {
        float[] dst = out.array();
        int at = out.offset();
        int n = out.length();
        int slice = 1 << 16;
        pool.forEach((n + slice - 1) / slice, s -> {
            int from = s * slice;
            int to = Math.min(n, from + slice);
            for (int c = 0; c < parts; c++) {
                int base = c * n;
                for (int x = from; x < to; x++) {
                    dst[at + x] += partial[base + x];
                }
            }
        });
    }

    /**
     * Query heads {@code h0 .. h0+heads} of KV head {@code kvHead} against key tiles {@code chunk, chunk+chunks, …}.
     * One head at a time: its packed Q, dO and dQ (3·Sq·D floats) are what streams past each key tile, so a unit
     * of an MQA group touches no more memory per tile than one of multi-head attention. The chunk's dK and dV stay
     * in the scratch across the heads, summed in head order then query-tile order, as a head-major loop would.
     */
    private void unit(AttentionProblem p, Scratch w, int b, int kvHead, int h0, int heads, int chunk, int chunks,
                      Span<float[]> dO, Span<float[]> o, Span<float[]> lse, Span<float[]> dqOut,
                      Span<float[]> dkOut, Span<float[]> dvOut, float[] dTable, int dTableBase) {
        int dp = p.dPad;
        int d = p.headDim;
        float scale = p.scale;
        int tileSize = p.bc * dp;
        Arrays.fill(w.dk, 0f);
        Arrays.fill(w.dv, 0f);
        Philox philox = p.dropout.active() ? p.dropout.philox() : null;
        for (int g = 0; g < heads; g++) {
            int h = h0 + g;
            // The head's Q and dO rows are packed once: contiguous, zero-padded rows make the five products of
            // each tile measurably faster than reading the [B, S, H, D] layout in place (155 vs 133 ms at
            // S=2048, H=8, D=64); dQ is summed in a packed buffer too. Block by block, so that D reads the
            // packed dO rows while they are still in L1.
            for (int i0 = 0; i0 < p.seqQ; i0 += BR) {
                int rows = Math.min(BR, p.seqQ - i0);
                int at = i0 * dp;
                AttentionPacking.queryRows(p, p.q, p.qOff, b, h, i0, rows, 1f, w.qs, at);
                AttentionPacking.queryRows(p, dO.array(), dO.offset(), b, h, i0, rows, 1f, w.dO, at);
                rowDots(w.dO, at, dp, o.array(), o.offset() + p.queryRow(b, i0, h), p.qStride, rows, d, w.dRow, i0);
            }
            System.arraycopy(lse.array(), lse.offset() + (b * p.heads + h) * p.seqQ, w.lse, 0, p.seqQ);
            Arrays.fill(w.dq, 0f);
            for (int kt = chunk, slot = 0; kt < p.keyTiles; kt += chunks, slot++) {
                int j0 = kt * p.bc;
                int cols = Math.min(p.bc, p.seqK - j0);
                int rowFrom = p.keys.firstRow(j0);
                int rowTo = p.keys.endRow(j0 + cols);
                if (rowFrom >= rowTo) {
                    continue;
                }
                // Packed again per head: O(BC·D) against the O(Sq·BC·D) products of the tile.
                AttentionPacking.keyTile(p, b, kvHead, j0, cols, w.k, w.kt, w.vt);
                for (int i0 = rowFrom / BR * BR; i0 < rowTo; i0 += BR) {
                    int rows = Math.min(BR, p.seqQ - i0);
                    block(p, w, b, h, kt, slot * tileSize, cols, i0, rows, p.tiles.classify(b, h, i0, rows, kt),
                            philox, dTable, dTableBase + g * p.biases.tableWidth());
                }
            }
            for (int i = 0; i < p.seqQ; i++) {
                int dst = dqOut.offset() + p.queryRow(b, i, h);
                int src = i * dp;
                // An empty row (lse = -inf) has no gradient; its dS row is 0, but 0 times a non-finite k in
                // dS·K would still make it NaN (the non-finite rule gives empty rows zero gradients).
                if (w.lse[i] == Float.NEGATIVE_INFINITY) {
                    Arrays.fill(dqOut.array(), dst, dst + d, 0f);
                    continue;
                }
                for (int x = 0; x < d; x++) {
                    dqOut.array()[dst + x] = w.dq[src + x] * scale;
                }
            }
        }
        for (int kt = chunk, slot = 0; kt < p.keyTiles; kt += chunks, slot++) {
            int j0 = kt * p.bc;
            int cols = Math.min(p.bc, p.seqK - j0);
            if (p.keys.firstRow(j0) >= p.keys.endRow(j0 + cols)) {
                continue;
            }
            for (int c = 0; c < cols; c++) {
                int row = p.keyRow(b, j0 + c, kvHead);
                int dst = dkOut.offset() + row;
                int src = slot * tileSize + c * dp;
                for (int x = 0; x < d; x++) {
                    dkOut.array()[dst + x] = w.dk[src + x] * scale;
                }
                System.arraycopy(w.dv, src, dvOut.array(), dvOut.offset() + row, d);
            }
        }
    }

    /**
     * Query tile {@code i0} ({@code rows} rows) of query-side head {@code h} (group member {@code g}) against the
     * unit's packed key tile {@code kt} of {@code cols} keys: the five products, adding into its dK, dV and dQ.
     */
    private void block(AttentionProblem p, Scratch w, int b, int h, int kt, int kvAt, int cols, int i0, int rows,
                       TileClasses.Tile tile, Philox philox, float[] dTable, int dTableBase) {
        if (tile == TileClasses.Tile.SKIP) {
            return;
        }
        int dp = p.dPad;
        int d = p.headDim;
        int j0 = kt * p.bc;
        int qAt = i0 * dp;
        // Near a causal or window edge the tile's rows see only part of the key tile: columns
        // c0 .. c0+colsPad of it (c0 a multiple of LANES) are computed.
        int cEnd = Math.min(cols, p.keys.rowEnd(i0 + rows - 1) - j0);
        int open = p.keys.rowBegin(i0);
        if (tile == TileClasses.Tile.PARTIAL) {
            open = p.tiles.firstOpenColumn(b, h, i0, rows, Math.max(j0, open), j0 + cEnd);
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
        math.gemm(w.qs, qAt, dp, 1, w.kt, c0, p.bc, s, 0, p.bc, rows, colsPad, d, false);
        p.scores(s, p.bc, b, h, i0, rows, jc, colsPad, tile, p.biases.hasSoftcap() ? w.tanh : null);
        for (int r = 0; r < rows; r++) {
            float rowLse = w.lse[i0 + r];
            int so = r * p.bc;
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
                p.dropout.keepFactors(philox, w.keep, r * p.bc, b, h, i0 + r, jc, Math.min(colsPad, cols - c0), colsPad);
            }
            for (int x = 0; x < rows * p.bc; x++) {
                pv[x] = s[x] * w.keep[x];
            }
        }
        // dV += Pᵀ·dO
        math.gemm(pv, 0, 1, p.bc, w.dO, qAt, dp, w.dv, kvAt + c0 * dp, dp, colsPad, dp, rows, true);
        // dP = dO·Vᵀ (an fma chain over d, as rowDots sums D), then dS = P∘(dP∘Z/(1-p) − D)
        math.gemm(w.dO, qAt, dp, 1, w.vt, c0, p.bc, ds, 0, p.bc, rows, colsPad, d, false);
        if (philox != null) {
            for (int x = 0; x < rows * p.bc; x++) {
                ds[x] *= w.keep[x];
            }
        }
        for (int r = 0; r < rows; r++) {
            math.softmaxGrad(s, ds, r * p.bc, colsPad, w.dRow[i0 + r]);
        }
        if (dTable != null) {
            // The table is added after the softcap, so its gradient is dS itself.
            for (int r = 0; r < rows; r++) {
                int t = dTableBase + p.biases.tableIndex(0, i0 + r, jc);
                int so = r * p.bc;
                int n = Math.min(colsPad, cols - c0);
                for (int c = 0; c < n; c++) {
                    dTable[t + c] += ds[so + c];
                }
            }
        }
        if (p.biases.hasSoftcap()) {
            // d(c·tanh(x/c))/dx = 1 − tanh²(x/c)
            for (int r = 0; r < rows; r++) {
                int so = r * p.bc;
                for (int c = 0; c < colsPad; c++) {
                    float t = w.tanh[so + c];
                    ds[so + c] *= 1f - t * t;
                }
            }
        }
        // dK += dSᵀ·Q;  dQ += dS·K (both scaled once, at the end)
        math.gemm(ds, 0, 1, p.bc, w.qs, qAt, dp, w.dk, kvAt + c0 * dp, dp, colsPad, dp, rows, true);
        math.gemm(ds, 0, p.bc, 1, w.k, c0 * dp, dp, w.dq, qAt, dp, rows, dp, colsPad, true);
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

    /** Per-worker backward memory: one head's packed Q, dO and dQ (O(Sq·D)), the chunk's dK and dV, and tiles. */
    private static final class Scratch {
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
        final float[] s;
        final float[] ds;
        final float[] pd;
        final float[] keep;
        final float[] tanh;

        Scratch(AttentionProblem p, int chunks) {
            int rows = p.seqQPad;
            int slots = (p.keyTiles + chunks - 1) / chunks;
            qs = new float[rows * p.dPad];
            dO = new float[rows * p.dPad];
            dq = new float[rows * p.dPad];
            lse = new float[rows];
            dRow = new float[rows];
            k = new float[p.bc * p.dPad];
            kt = new float[p.dPad * p.bc];
            vt = new float[p.dPad * p.bc];
            dk = new float[Math.multiplyExact(slots * p.bc, p.dPad)];
            dv = new float[Math.multiplyExact(slots * p.bc, p.dPad)];
            s = new float[BR * p.bc];
            ds = new float[BR * p.bc];
            pd = new float[BR * p.bc];
            keep = new float[BR * p.bc];
            tanh = new float[BR * p.bc];
        }
    }
}
