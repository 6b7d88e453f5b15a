package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The engine's GEMM, {@code C = alpha·op(A)·op(B) (+ bias[j]) + beta·C}, optionally a strided batch, on blocks of
 * the float heap ({@link DeviceHeap}); {@link TornadoGemm} launches it for the linear port and the fused
 * cross-entropy.
 *
 * <p><b>Tiling.</b> A work group of {@link #GROUP} items (16 × 16) owns a {@link #TILE} × {@link #TILE} tile of C;
 * item {@code (tx, ty)} computes the 4 × 4 elements at rows {@code ty + 16·r} and columns {@code tx + 16·c}, in
 * sixteen scalar accumulators. The reduction runs in steps of {@link #DEPTH}: the group stages a
 * {@code TILE × DEPTH} panel of op(A) and a {@code DEPTH × TILE} panel of op(B) in local memory (each element read
 * from the heap once per group instead of once per item), then every item walks the panel. Consecutive items
 * (consecutive {@code tx}) read consecutive columns of the B panel and the same A element, which is what POCL's
 * work-group vectoriser turns into vector loads and broadcasts.
 *
 * <p><b>Deterministic.</b> Every element of C is one fp32 multiply-add chain over {@code p = 0..K−1} in order
 * (TornadoVM contracts {@code acc + a·b} into {@code fma}), whatever the tile sizes or the device's scheduling.
 * Panel elements past M, N or K are staged as 0 (read from a clamped, valid address and replaced by a select, no
 * branch): a padded step adds {@code 0·0}, so a non-finite value of A or B reaches exactly the outputs it should.
 * The epilogue rounds {@code alpha·acc} (0 when {@code alpha = 0}, which BLAS says reads neither operand: a NaN
 * there must not reach C), adds the bias, then {@code beta·C}; with {@code beta = 0} C is not read.
 *
 * <p><b>Operands through strides</b> (meta slots below), so transposes and batches need no packing:
 * {@code op(A)(i, p) = heap[A_AT + e·A_BATCH + i·A_ROW + p·A_STEP]},
 * {@code op(B)(p, j) = heap[B_AT + e·B_BATCH + p·B_STEP + j·B_COL]},
 * {@code C(i, j) = heap[C_AT + e·C_BATCH + i·LDC + j]} for batch entry {@code e} (a batch stride of 0 shares the
 * operand). {@code A_ALONG_K} / {@code B_ALONG_N} say which index is contiguous, so that consecutive items stage
 * consecutive heap elements.
 *
 * <p>Every item runs every loop (uniform trip counts keep the barriers legal); group {@code g} takes tile
 * {@code g mod (tilesM·tilesN)} of batch entry {@code g / (tilesM·tilesN)}.
 */
final class GemmKernels {
    /** Rows and columns of C per work group. */
    static final int TILE = 64;
    /** Reduction steps staged per panel. */
    static final int DEPTH = 16;
    /** Work items per group: 16 × 16, each 4 × 4 elements of C. */
    static final int GROUP = 256;
    /** Items per row of the group (and rows of them). */
    private static final int SIDE = 16;

    /** {@code meta} slots. */
    static final int M = 0, N = 1, K = 2, BATCH = 3, A_AT = 4, A_BATCH = 5, A_ROW = 6, A_STEP = 7, A_ALONG_K = 8,
            B_AT = 9, B_BATCH = 10, B_STEP = 11, B_COL = 12, B_ALONG_N = 13, C_AT = 14, C_BATCH = 15, LDC = 16,
            BIAS = 17, BIAS_AT = 18, META_SIZE = 19;
    /** {@code fmeta} slots. */
    static final int ALPHA = 0, BETA = 1, FMETA_SIZE = 2;

    private GemmKernels() {
    }

    /** One tile of C per work group; see the class comment. */
    static void gemm(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        float[] aPanel = ctx.allocateFloatLocalArray(DEPTH * TILE);   // [step][row]
        float[] bPanel = ctx.allocateFloatLocalArray(DEPTH * TILE);   // [step][column]
        int lid = ctx.localIdx;
        int tx = lid % SIDE;
        int ty = lid / SIDE;
        int m = meta.get(M);
        int n = meta.get(N);
        int k = meta.get(K);
        int tilesM = (m + TILE - 1) / TILE;
        int tilesN = (n + TILE - 1) / TILE;
        int perEntry = tilesM * tilesN;
        int group = ctx.groupIdx;
        // Groups past the batch (none today: the range is exactly the tiles) read entry 0 and store nothing.
        int live = group < perEntry * meta.get(BATCH) ? 1 : 0;
        int e = live == 1 ? group / perEntry : 0;
        int tile = group % perEntry;
        int row0 = (tile / tilesN) * TILE;
        int col0 = (tile % tilesN) * TILE;
        int aBase = meta.get(A_AT) + e * meta.get(A_BATCH);
        int aRow = meta.get(A_ROW);
        int aStep = meta.get(A_STEP);
        int aAlongK = meta.get(A_ALONG_K);
        int bBase = meta.get(B_AT) + e * meta.get(B_BATCH);
        int bStep = meta.get(B_STEP);
        int bCol = meta.get(B_COL);
        int bAlongN = meta.get(B_ALONG_N);
        float c00 = 0.0f, c01 = 0.0f, c02 = 0.0f, c03 = 0.0f;
        float c10 = 0.0f, c11 = 0.0f, c12 = 0.0f, c13 = 0.0f;
        float c20 = 0.0f, c21 = 0.0f, c22 = 0.0f, c23 = 0.0f;
        float c30 = 0.0f, c31 = 0.0f, c32 = 0.0f, c33 = 0.0f;
        for (int p0 = 0; p0 < k; p0 += DEPTH) {
            // Stage the panels: DEPTH·TILE elements each, GROUP items, four elements per item.
            for (int q = 0; q < DEPTH * TILE / GROUP; q++) {
                int idx = lid + q * GROUP;
                // A: consecutive items take consecutive steps when A runs along K in memory, else consecutive rows.
                int ar = aAlongK == 1 ? idx / DEPTH : idx % TILE;
                int as = aAlongK == 1 ? idx % DEPTH : idx / TILE;
                int ai = row0 + ar;
                int ap = p0 + as;
                int aOk = (ai < m ? 1 : 0) * (ap < k ? 1 : 0);
                float av = heap.get(aBase + Math.min(ai, m - 1) * aRow + Math.min(ap, k - 1) * aStep);
                aPanel[as * TILE + ar] = aOk == 1 ? av : 0.0f;
                // B: consecutive items take consecutive columns when B runs along N in memory, else consecutive steps.
                int bc = bAlongN == 1 ? idx % TILE : idx / DEPTH;
                int bs = bAlongN == 1 ? idx / TILE : idx % DEPTH;
                int bj = col0 + bc;
                int bp = p0 + bs;
                int bOk = (bj < n ? 1 : 0) * (bp < k ? 1 : 0);
                float bv = heap.get(bBase + Math.min(bp, k - 1) * bStep + Math.min(bj, n - 1) * bCol);
                bPanel[bs * TILE + bc] = bOk == 1 ? bv : 0.0f;
            }
            ctx.localBarrier();
            for (int s = 0; s < DEPTH; s++) {
                int at = s * TILE;
                float a0 = aPanel[at + ty];
                float a1 = aPanel[at + ty + SIDE];
                float a2 = aPanel[at + ty + 2 * SIDE];
                float a3 = aPanel[at + ty + 3 * SIDE];
                float b0 = bPanel[at + tx];
                float b1 = bPanel[at + tx + SIDE];
                float b2 = bPanel[at + tx + 2 * SIDE];
                float b3 = bPanel[at + tx + 3 * SIDE];
                c00 = c00 + a0 * b0;
                c01 = c01 + a0 * b1;
                c02 = c02 + a0 * b2;
                c03 = c03 + a0 * b3;
                c10 = c10 + a1 * b0;
                c11 = c11 + a1 * b1;
                c12 = c12 + a1 * b2;
                c13 = c13 + a1 * b3;
                c20 = c20 + a2 * b0;
                c21 = c21 + a2 * b1;
                c22 = c22 + a2 * b2;
                c23 = c23 + a2 * b3;
                c30 = c30 + a3 * b0;
                c31 = c31 + a3 * b1;
                c32 = c32 + a3 * b2;
                c33 = c33 + a3 * b3;
            }
            ctx.localBarrier();
        }
        if (live == 1) {
            float alpha = fmeta.get(ALPHA);
            float beta = fmeta.get(BETA);
            int cBase = meta.get(C_AT) + e * meta.get(C_BATCH);
            int ldc = meta.get(LDC);
            int bias = meta.get(BIAS);
            int biasAt = meta.get(BIAS_AT);
            int i0 = row0 + ty;
            int j0 = col0 + tx;
            gemmStore(heap, cBase, ldc, m, n, i0, j0, c00, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0, j0 + SIDE, c01, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0, j0 + 2 * SIDE, c02, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0, j0 + 3 * SIDE, c03, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + SIDE, j0, c10, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + SIDE, j0 + SIDE, c11, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + SIDE, j0 + 2 * SIDE, c12, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + SIDE, j0 + 3 * SIDE, c13, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + 2 * SIDE, j0, c20, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + 2 * SIDE, j0 + SIDE, c21, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + 2 * SIDE, j0 + 2 * SIDE, c22, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + 2 * SIDE, j0 + 3 * SIDE, c23, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + 3 * SIDE, j0, c30, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + 3 * SIDE, j0 + SIDE, c31, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + 3 * SIDE, j0 + 2 * SIDE, c32, alpha, beta, bias, biasAt);
            gemmStore(heap, cBase, ldc, m, n, i0 + 3 * SIDE, j0 + 3 * SIDE, c33, alpha, beta, bias, biasAt);
        }
    }

    /**
     * The epilogue of one element: {@code C(i, j) = alpha·acc + bias[j] + beta·C(i, j)} when {@code (i, j)} is
     * inside C; {@code alpha = 0} contributes 0 whatever {@code acc} holds, {@code beta = 0} never reads C.
     */
    private static void gemmStore(FloatArray heap, int cBase, int ldc, int m, int n, int i, int j, float acc,
                                  float alpha, float beta, int bias, int biasAt) {
        if (i < m && j < n) {
            float out = alpha == 0.0f ? 0.0f : alpha * acc;
            if (bias != 0) {
                out = out + heap.get(biasAt + j);
            }
            int at = cBase + i * ldc + j;
            if (beta != 0.0f) {
                out = out + beta * heap.get(at);
            }
            heap.set(at, out);
        }
    }
}
