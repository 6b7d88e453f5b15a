package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.vectors.Float8;

/**
 * The engine's GEMM, {@code C = alpha·op(A)·op(B) (+ bias[j]) + beta·C}, optionally a strided batch, on blocks of
 * the float heap ({@link DeviceHeap}); {@link TornadoGemm} launches it for the linear port and the fused
 * cross-entropy.
 *
 * <p><b>Blocking.</b> A work item computes an 8 × 8 block of C (rows {@code i0..i0+7}, columns {@code j0..j0+7}) in
 * eight {@link Float8} accumulators, one per row: at each reduction step it reads eight consecutive elements of
 * op(B) as one {@code float8} and one element of op(A) per row, and does eight vector multiply-adds. op(B) is
 * always packed first ({@link #pack}: along N, rows padded to whole vectors), so the {@code float8} reads are
 * contiguous and in bounds for a transposed B too. Eight consecutive items ({@link #GROUP_COLS}) take 64
 * consecutive columns of the same rows, and a work group ({@link #GROUP} items) eight such row blocks of one
 * 64-column panel, so the panel of B is reused from cache. No barriers, no local memory. Measured on POCL (the
 * CPU's caches do the staging there), 1024³: this form 37–48 GFLOP/s; eight scalar accumulators of one column
 * per item 7–8; a private {@code float[128]} accumulator block 9; and the usual GPU tiling (64 × 16 panels of A and
 * B staged in local memory between barriers, 16 × 16 items of 4 × 4 elements) 1.6–2, since POCL runs the
 * work-item loops between barriers with every item's accumulators in memory. Float8 × 4 rows gave 21–27; 12 or 16
 * rows, and {@code Float16}, fail in TornadoVM 5.2.1's compiler ("Unable to build sketch ... LoadField#segment").
 *
 * <p><b>Deterministic.</b> Every element of C is one fp32 multiply-add chain over {@code p = 0..K−1} in order
 * (OpenCL contracts the vector {@code acc + a·b} into {@code fma}), whatever the device's scheduling. Rows past M
 * read row M − 1 and are not stored; columns past N read the packing's zeros (or, for a whole block past the
 * packed rows, the last block) and are not stored. The epilogue rounds {@code alpha·acc} (0 when
 * {@code alpha = 0}, which BLAS says reads neither operand: a NaN there must not reach C), adds the bias, then
 * {@code beta·C}; with {@code beta = 0} C is not read.
 *
 * <p><b>Operands through strides</b> (meta slots below): {@code op(A)(i, p) = heap[A_AT + e·A_BATCH + i·A_ROW +
 * p·A_STEP]} (a transposed A arrives packed into rows of K as well), packed {@code op(B)(p, j) = heap[B_AT + e·B_BATCH + p·B_STEP + j]},
 * {@code C(i, j) = heap[C_AT + e·C_BATCH + i·LDC + j]} for batch entry {@code e} (a batch stride of 0 shares the
 * operand).
 */
final class GemmKernels {
    /** Rows of C per work item. */
    static final int ROWS_PER_ITEM = 8;
    /** Consecutive columns of C per work item (one vector of them). */
    static final int COLS_PER_ITEM = 8;
    /** Work items per group of rows: consecutive column blocks. */
    static final int GROUP_COLS = 8;
    /** Work items per work group. */
    static final int GROUP = 64;

    /** {@code meta} slots of {@link #gemm}. */
    static final int M = 0, N = 1, K = 2, BATCH = 3, A_AT = 4, A_BATCH = 5, A_ROW = 6, A_STEP = 7, B_AT = 8,
            B_BATCH = 9, B_STEP = 10, C_AT = 11, C_BATCH = 12, LDC = 13, BIAS = 14, BIAS_AT = 15, META_SIZE = 16;
    /** {@code fmeta} slots of {@link #gemm}. */
    static final int ALPHA = 0, BETA = 1, FMETA_SIZE = 2;
    /** {@code meta} slots of {@link #pack} (reusing the above). */
    static final int FROM = A_AT, FROM_BATCH = A_BATCH, FROM_LD = A_ROW, TO = C_AT, COUNT = LDC, PACK_LD = B_STEP,
            PACK_T = BIAS;

    private GemmKernels() {
    }

    /** A block of {@code ROWS_PER_ITEM × COLS_PER_ITEM} of C per item; see the class comment. */
    static void gemm(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int m = meta.get(M);
        int n = meta.get(N);
        int k = meta.get(K);
        int rowBlocks = (m + ROWS_PER_ITEM - 1) / ROWS_PER_ITEM;
        int colItems = (n + COLS_PER_ITEM - 1) / COLS_PER_ITEM;
        int col = ctx.globalIdx % GROUP_COLS;
        int group = ctx.globalIdx / GROUP_COLS;
        int colGroups = (colItems + GROUP_COLS - 1) / GROUP_COLS;
        int perEntry = rowBlocks * colGroups;
        if (group < perEntry * meta.get(BATCH)) {
            int e = group / perEntry;
            int tile = group - e * perEntry;
            int i0 = (tile % rowBlocks) * ROWS_PER_ITEM;
            int j0 = ((tile / rowBlocks) * GROUP_COLS + col) * COLS_PER_ITEM;
            int aRow = meta.get(A_ROW);
            int aStep = meta.get(A_STEP);
            int aBase = meta.get(A_AT) + e * meta.get(A_BATCH);
            // Rows past M read row M − 1 (valid) and are not stored; column blocks past the packed rows read the last.
            int bAt = meta.get(B_AT) + e * meta.get(B_BATCH) + TornadoMath.min(j0, meta.get(B_STEP) - COLS_PER_ITEM);
            int bStep = meta.get(B_STEP);
            int a0 = aBase + TornadoMath.min(i0 + 0, m - 1) * aRow;
            int a1 = aBase + TornadoMath.min(i0 + 1, m - 1) * aRow;
            int a2 = aBase + TornadoMath.min(i0 + 2, m - 1) * aRow;
            int a3 = aBase + TornadoMath.min(i0 + 3, m - 1) * aRow;
            int a4 = aBase + TornadoMath.min(i0 + 4, m - 1) * aRow;
            int a5 = aBase + TornadoMath.min(i0 + 5, m - 1) * aRow;
            int a6 = aBase + TornadoMath.min(i0 + 6, m - 1) * aRow;
            int a7 = aBase + TornadoMath.min(i0 + 7, m - 1) * aRow;
            Float8 c0 = new Float8(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
            Float8 c1 = new Float8(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
            Float8 c2 = new Float8(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
            Float8 c3 = new Float8(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
            Float8 c4 = new Float8(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
            Float8 c5 = new Float8(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
            Float8 c6 = new Float8(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
            Float8 c7 = new Float8(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
            for (int p = 0; p < k; p++) {
                int bp = bAt + p * bStep;
                Float8 b = new Float8(heap.get(bp), heap.get(bp + 1), heap.get(bp + 2), heap.get(bp + 3), heap.get(bp + 4), heap.get(bp + 5), heap.get(bp + 6), heap.get(bp + 7));
                int ap = p * aStep;
                c0 = Float8.add(c0, Float8.mult(b, heap.get(a0 + ap)));
                c1 = Float8.add(c1, Float8.mult(b, heap.get(a1 + ap)));
                c2 = Float8.add(c2, Float8.mult(b, heap.get(a2 + ap)));
                c3 = Float8.add(c3, Float8.mult(b, heap.get(a3 + ap)));
                c4 = Float8.add(c4, Float8.mult(b, heap.get(a4 + ap)));
                c5 = Float8.add(c5, Float8.mult(b, heap.get(a5 + ap)));
                c6 = Float8.add(c6, Float8.mult(b, heap.get(a6 + ap)));
                c7 = Float8.add(c7, Float8.mult(b, heap.get(a7 + ap)));
            }
            float alpha = fmeta.get(ALPHA);
            float beta = fmeta.get(BETA);
            int ldc = meta.get(LDC);
            int hasBias = meta.get(BIAS);
            int biasAt = meta.get(BIAS_AT) + j0;
            int c = meta.get(C_AT) + e * meta.get(C_BATCH) + i0 * ldc + j0;
            int left = n - j0;
            store0(heap, c + 0 * ldc, i0 + 0 < m, left, c0, alpha, beta, biasAt, hasBias);
            store1(heap, c + 0 * ldc, i0 + 0 < m, left, c0, alpha, beta, biasAt, hasBias);
            store0(heap, c + 1 * ldc, i0 + 1 < m, left, c1, alpha, beta, biasAt, hasBias);
            store1(heap, c + 1 * ldc, i0 + 1 < m, left, c1, alpha, beta, biasAt, hasBias);
            store0(heap, c + 2 * ldc, i0 + 2 < m, left, c2, alpha, beta, biasAt, hasBias);
            store1(heap, c + 2 * ldc, i0 + 2 < m, left, c2, alpha, beta, biasAt, hasBias);
            store0(heap, c + 3 * ldc, i0 + 3 < m, left, c3, alpha, beta, biasAt, hasBias);
            store1(heap, c + 3 * ldc, i0 + 3 < m, left, c3, alpha, beta, biasAt, hasBias);
            store0(heap, c + 4 * ldc, i0 + 4 < m, left, c4, alpha, beta, biasAt, hasBias);
            store1(heap, c + 4 * ldc, i0 + 4 < m, left, c4, alpha, beta, biasAt, hasBias);
            store0(heap, c + 5 * ldc, i0 + 5 < m, left, c5, alpha, beta, biasAt, hasBias);
            store1(heap, c + 5 * ldc, i0 + 5 < m, left, c5, alpha, beta, biasAt, hasBias);
            store0(heap, c + 6 * ldc, i0 + 6 < m, left, c6, alpha, beta, biasAt, hasBias);
            store1(heap, c + 6 * ldc, i0 + 6 < m, left, c6, alpha, beta, biasAt, hasBias);
            store0(heap, c + 7 * ldc, i0 + 7 < m, left, c7, alpha, beta, biasAt, hasBias);
            store1(heap, c + 7 * ldc, i0 + 7 < m, left, c7, alpha, beta, biasAt, hasBias);
        }
    }

    /**
     * Columns 0–3 of one row of an item's block ({@code left} columns of it lie inside C), through
     * {@link #gemmStore}. Helpers of four columns, not one of a whole row: TornadoVM inlines at most 600 graph nodes.
     */
    private static void store0(FloatArray heap, int at, boolean inside, int left, Float8 acc, float alpha, float beta,
                               int biasAt, int hasBias) {
        if (inside) {
            gemmStore(heap, at + 0, left > 0, acc.getS0(), alpha, beta, heap.get((biasAt + 0) * hasBias), hasBias);
            gemmStore(heap, at + 1, left > 1, acc.getS1(), alpha, beta, heap.get((biasAt + 1) * hasBias), hasBias);
            gemmStore(heap, at + 2, left > 2, acc.getS2(), alpha, beta, heap.get((biasAt + 2) * hasBias), hasBias);
            gemmStore(heap, at + 3, left > 3, acc.getS3(), alpha, beta, heap.get((biasAt + 3) * hasBias), hasBias);
        }
    }

    /** Columns 4–7 of one row of an item's block ({@code left} columns of it lie inside C); see {@link #store0}. */
    private static void store1(FloatArray heap, int at, boolean inside, int left, Float8 acc, float alpha, float beta,
                               int biasAt, int hasBias) {
        if (inside) {
            gemmStore(heap, at + 4, left > 4, acc.getS4(), alpha, beta, heap.get((biasAt + 4) * hasBias), hasBias);
            gemmStore(heap, at + 5, left > 5, acc.getS5(), alpha, beta, heap.get((biasAt + 5) * hasBias), hasBias);
            gemmStore(heap, at + 6, left > 6, acc.getS6(), alpha, beta, heap.get((biasAt + 6) * hasBias), hasBias);
            gemmStore(heap, at + 7, left > 7, acc.getS7(), alpha, beta, heap.get((biasAt + 7) * hasBias), hasBias);
        }
    }

    /**
     * The epilogue of one element at {@code at} (when {@code inside}): {@code alpha·acc + bias + beta·C};
     * {@code alpha = 0} contributes 0 whatever {@code acc} holds, {@code beta = 0} never reads C, and without a
     * bias ({@code hasBias} 0) none is added (adding 0 would turn a −0 into +0).
     */
    private static void gemmStore(FloatArray heap, int at, boolean inside, float acc, float alpha, float beta,
                                  float bias, int hasBias) {
        if (inside) {
            float out = alpha == 0.0f ? 0.0f : alpha * acc;
            if (hasBias != 0) {
                out = out + bias;
            }
            if (beta != 0.0f) {
                out = out + beta * heap.get(at);
            }
            heap.set(at, out);
        }
    }

    /**
     * Packs op(B) so that it runs along N in rows of {@code PACK_LD} (N rounded up to a whole vector, the padding 0):
     * {@code to[e·K·PACK_LD + p·PACK_LD + j] = op(B)(p, j)}, read at {@code from[e·FROM_BATCH + j·FROM_LD + p]}
     * when {@code PACK_T} is 1 (B transposed), else at {@code from[e·FROM_BATCH + p·FROM_LD + j]}; one item per
     * element of the {@code COUNT} packed. {@link TornadoGemm} packs a transposed A with it too (its rows A's M rows,
     * its columns K).
     */
    static void pack(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int i = ctx.globalIdx;
        if (i < meta.get(COUNT)) {
            int n = meta.get(N);
            int ld = meta.get(PACK_LD);
            int kn = meta.get(K) * ld;
            int e = i / kn;
            int rest = i - e * kn;
            int p = rest / ld;
            int j = rest - p * ld;
            int jc = TornadoMath.min(j, n - 1);
            int from = meta.get(FROM) + e * meta.get(FROM_BATCH);
            int at = meta.get(PACK_T) != 0 ? from + jc * meta.get(FROM_LD) + p : from + p * meta.get(FROM_LD) + jc;
            float v = heap.get(at);
            heap.set(meta.get(TO) + i, j < n ? v : 0.0f);
        }
    }
}
