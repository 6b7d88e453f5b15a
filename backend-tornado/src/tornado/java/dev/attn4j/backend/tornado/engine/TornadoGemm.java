package dev.attn4j.backend.tornado.engine;

import static dev.attn4j.backend.tornado.engine.GemmKernels.*;

/**
 * Launches {@link GemmKernels#gemm} on blocks of the float heap, BLAS-style on row-major storage:
 * {@code C = alpha·op(A)·op(B) (+ bias[j]) + beta·C}, where a stored matrix {@code X} with leading dimension
 * {@code ldx} reads {@code X(r, c) = heap[x + r·ldx + c]} and {@code op(X)} is {@code X} or {@code Xᵀ}; a batch of
 * {@code batch} products steps each operand by its batch stride (0: shared). op(B) is first packed
 * ({@link GemmKernels#pack}) into a temporary block along N, rows padded to whole vectors, {@code K·N} elements per
 * batch entry it has: {@code O(K·N)} against the product's {@code O(M·N·K)}, and the kernel's vector reads are then
 * contiguous and in bounds whether B was transposed or not. A transposed A is packed likewise into rows of K
 * ({@code O(M·K)}): read down the columns of the stored A, the product ran at about half the speed. Callers hold the engine's lock; the temporary block
 * may make the heap grow, which keeps every other block where it is.
 *
 * <pre>{@code
 * // y [rows, out] = x [rows, in] · Wᵀ + b, W [out, in]
 * TornadoGemm.run(heap, false, true, rows, out, in, 1f, x.offset(), in, w.offset(), in, 0f, y.offset(), out,
 *         1, 0, 0, 0, b.offset());
 * }</pre>
 */
final class TornadoGemm {
    /** No bias. */
    static final int NO_BIAS = -1;

    private TornadoGemm() {
    }

    /**
     * Runs one GEMM (or a strided batch of them); nothing when C is empty.
     *
     * @param biasAt where a bias {@code [n]} starts, or {@link #NO_BIAS}
     */
    static void run(DeviceHeap heap, boolean transA, boolean transB, int m, int n, int k, float alpha, int a, int lda,
                    int b, int ldb, float beta, int c, int ldc, int batch, int aBatch, int bBatch, int cBatch,
                    int biasAt) {
        if (m == 0 || n == 0 || batch == 0) {
            return; // the kernel clamps indices to m − 1 and n − 1: there must be a row and a column
        }
        int ld = Math.multiplyExact((n + COLS_PER_ITEM - 1) / COLS_PER_ITEM, COLS_PER_ITEM);
        int entries = bBatch != 0 ? batch : 1;
        int count = Math.multiplyExact(Math.multiplyExact(entries, Math.max(1, k)), ld);
        DeviceHeap.Block packed = heap.allocateFloats(count);
        DeviceHeap.Block packedA = null;
        try {
            int aAt = a;
            int aRow = transA ? 1 : lda;
            int aStep = transA ? lda : 1;
            int aStride = aBatch;
            if (transA && k > 0) {
                // op(A) = Aᵀ read down the columns of A is the slow form (about half the speed): pack it into
                // rows of K, O(M·K), with the same kernel (its "rows" are A's M rows, its columns K).
                int aEntries = aBatch != 0 ? batch : 1;
                int aCount = Math.multiplyExact(Math.multiplyExact(aEntries, m), k);
                packedA = heap.allocateFloats(aCount);
                new HeapCall(heap, DeviceHeap.Op.GEMM_PACK).set(N, k).set(K, m).set(FROM, a).set(FROM_BATCH, aBatch)
                        .set(FROM_LD, lda).set(PACK_T, 1).set(PACK_LD, k).set(TO, packedA.offset())
                        .set(COUNT, aCount).run(64, aCount);
                aAt = packedA.offset();
                aRow = k;
                aStep = 1;
                aStride = aBatch != 0 ? Math.multiplyExact(m, k) : 0;
            }
            if (k > 0) {
                new HeapCall(heap, DeviceHeap.Op.GEMM_PACK).set(N, n).set(K, k).set(FROM, b).set(FROM_BATCH, bBatch)
                        .set(FROM_LD, ldb).set(PACK_T, transB ? 1 : 0).set(PACK_LD, ld).set(TO, packed.offset())
                        .set(COUNT, count).run(64, count);
            }
            long colGroups = ((n + COLS_PER_ITEM - 1) / COLS_PER_ITEM + GROUP_COLS - 1) / GROUP_COLS;
            long items = Math.multiplyExact(Math.multiplyExact((long) (m + ROWS_PER_ITEM - 1) / ROWS_PER_ITEM,
                    colGroups), (long) batch * GROUP_COLS);
            new HeapCall(heap, DeviceHeap.Op.GEMM)
                    .set(M, m).set(N, n).set(K, k).set(BATCH, batch)
                    // op(A)(i, p) = heap[A_AT + i·A_ROW + p·A_STEP]
                    .set(A_AT, aAt).set(A_BATCH, aStride).set(A_ROW, aRow).set(A_STEP, aStep)
                    // op(B)(p, j) = heap[B_AT + p·B_STEP + j], packed
                    .set(B_AT, packed.offset()).set(B_BATCH, bBatch != 0 ? Math.multiplyExact(k, ld) : 0)
                    .set(B_STEP, ld)
                    .set(C_AT, c).set(C_BATCH, cBatch).set(LDC, ldc)
                    .set(BIAS, biasAt == NO_BIAS ? 0 : 1).set(BIAS_AT, biasAt == NO_BIAS ? 0 : biasAt)
                    .f(ALPHA, alpha).f(BETA, beta)
                    .run(GROUP, items);
        } finally {
            heap.free(packed);
            if (packedA != null) {
                heap.free(packedA);
            }
        }
    }
}
