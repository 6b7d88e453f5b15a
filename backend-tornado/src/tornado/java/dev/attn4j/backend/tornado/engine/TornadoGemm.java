package dev.attn4j.backend.tornado.engine;

import static dev.attn4j.backend.tornado.engine.GemmKernels.*;

/**
 * Launches {@link GemmKernels#gemm} on blocks of the float heap, BLAS-style on row-major storage:
 * {@code C = alpha·op(A)·op(B) (+ bias[j]) + beta·C}, where a stored matrix {@code X} with leading dimension
 * {@code ldx} reads {@code X(r, c) = heap[x + r·ldx + c]} and {@code op(X)} is {@code X} or {@code Xᵀ}; a batch of
 * {@code batch} products steps each operand by its batch stride (0: shared). Callers hold the engine's lock and
 * have allocated every block of their call.
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
        int tiles = Math.multiplyExact(Math.multiplyExact((m + TILE - 1) / TILE, (n + TILE - 1) / TILE), batch);
        new HeapCall(heap, DeviceHeap.Op.GEMM)
                .set(M, m).set(N, n).set(K, k).set(BATCH, batch)
                // op(A)(i, p) = heap[A_AT + i·A_ROW + p·A_STEP]
                .set(A_AT, a).set(A_BATCH, aBatch)
                .set(A_ROW, transA ? 1 : lda).set(A_STEP, transA ? lda : 1).set(A_ALONG_K, transA ? 0 : 1)
                // op(B)(p, j) = heap[B_AT + p·B_STEP + j·B_COL]
                .set(B_AT, b).set(B_BATCH, bBatch)
                .set(B_STEP, transB ? 1 : ldb).set(B_COL, transB ? ldb : 1).set(B_ALONG_N, transB ? 0 : 1)
                .set(C_AT, c).set(C_BATCH, cBatch).set(LDC, ldc)
                .set(BIAS, biasAt == NO_BIAS ? 0 : 1).set(BIAS_AT, biasAt == NO_BIAS ? 0 : biasAt)
                .f(ALPHA, alpha).f(BETA, beta)
                .run(GROUP, Math.multiplyExact((long) tiles, GROUP));
    }
}
