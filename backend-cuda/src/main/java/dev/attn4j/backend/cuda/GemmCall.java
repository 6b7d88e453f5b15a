package dev.attn4j.backend.cuda;

import dev.attn4j.ports.tensor.DType;

/**
 * The arguments of one {@code cublasGemmStridedBatchedEx} call, in cuBLAS's column-major terms: for each product
 * {@code p < batch}, {@code C_p = alpha·op(A_p)·op(B_p) + beta·C_p} with {@code op(A_p)} of {@code m × k},
 * {@code op(B_p)} of {@code k × n}, {@code C_p} of {@code m × n}; {@code X_p} starts {@code p·strideX} elements
 * after {@code x} (a stride of 0 shares the operand), column {@code j} of a stored matrix {@code ld} elements after
 * column {@code j − 1}. {@code A} and {@code B} are of {@code abType}, {@code C} of {@code cType}; products and
 * sums run in fp32 ({@code CUBLAS_COMPUTE_32F}: tensor cores for F16/BF16, fp32 FMAs for F32).
 *
 * <p>attn4j's tensors are row-major. {@link #rowMajor} turns a row-major product into this form with the usual
 * operand swap: a row-major {@code [R, C]} buffer read column-major is its transpose, so
 * {@code C = op(A)·op(B)} (row-major) is {@code Cᵀ = op(B)ᵀ·op(A)ᵀ} (column-major) on the same buffers: cuBLAS
 * gets {@code B} as its first operand and {@code A} as its second, {@code m} and {@code n} exchanged, each
 * transpose flag kept with its operand, and each leading dimension the stored row length.
 *
 * <pre>{@code
 * // y [rows, out] = x [rows, in] · Wᵀ, W [out, in]
 * GemmCall y = GemmCall.rowMajor(rows, out, in, 1f, x, false, in, 0, w, true, in, 0, 0f, yPtr, out, 0, 1, F32, F32);
 * }</pre>
 *
 * @param transA  whether {@code op(A) = Aᵀ}
 * @param transB  whether {@code op(B) = Bᵀ}
 * @param m       rows of {@code C}
 * @param n       columns of {@code C}
 * @param k       the reduced dimension
 * @param alpha   scale of the product
 * @param a       {@code A}
 * @param lda     leading dimension of {@code A} ({@code >= m}, or {@code >= k} transposed)
 * @param strideA elements between consecutive {@code A_p} (0: shared)
 * @param b       {@code B}
 * @param ldb     leading dimension of {@code B} ({@code >= k}, or {@code >= n} transposed)
 * @param strideB elements between consecutive {@code B_p} (0: shared)
 * @param beta    scale of {@code C}'s old value (0: not read)
 * @param c       {@code C}
 * @param ldc     leading dimension of {@code C} ({@code >= m})
 * @param strideC elements between consecutive {@code C_p}
 * @param batch   products ({@code >= 1})
 * @param abType  storage type of {@code A} and {@code B}
 * @param cType   storage type of {@code C}
 */
record GemmCall(boolean transA, boolean transB, int m, int n, int k, float alpha, DevicePointer a, int lda,
                long strideA, DevicePointer b, int ldb, long strideB, float beta, DevicePointer c, int ldc,
                long strideC, int batch, DType abType, DType cType) {

    /** Checks what cuBLAS would reject ({@code CUBLAS_STATUS_INVALID_VALUE}), before it is called. */
    GemmCall {
        if (m < 1 || n < 1 || k < 1 || batch < 1) {
            throw new IllegalArgumentException("GEMM sizes must be >= 1: m=" + m + " n=" + n + " k=" + k + " batch=" + batch);
        }
        if (lda < (transA ? k : m) || ldb < (transB ? n : k) || ldc < m) {
            throw new IllegalArgumentException("GEMM leading dimensions too small: lda=" + lda + " ldb=" + ldb + " ldc="
                    + ldc + " for m=" + m + " n=" + n + " k=" + k + (transA ? " A^T" : "") + (transB ? " B^T" : ""));
        }
        if (strideA < 0 || strideB < 0 || strideC < 0 || (batch > 1 && strideC == 0)) {
            throw new IllegalArgumentException("GEMM strides must be >= 0, C's > 0 in a batch: " + strideA + ", "
                    + strideB + ", " + strideC);
        }
    }

    /**
     * The column-major call computing the row-major product {@code C [M, N] = alpha·op(A)·op(B) + beta·C} for each
     * of {@code batch} products.
     *
     * @param rows    {@code M}, rows of {@code C}
     * @param cols    {@code N}, columns of {@code C}
     * @param inner   {@code K}, the reduced dimension
     * @param alpha   scale of the product
     * @param a       {@code A}, stored row-major: {@code [M, K]}, or {@code [K, M]} when {@code transA}
     * @param transA  whether {@code op(A) = Aᵀ}
     * @param aRow    elements between {@code A}'s stored rows (its last dimension, or more for a strided block)
     * @param aStride elements between consecutive products' {@code A} (0: shared)
     * @param b       {@code B}, stored row-major: {@code [K, N]}, or {@code [N, K]} when {@code transB}
     * @param transB  whether {@code op(B) = Bᵀ}
     * @param bRow    elements between {@code B}'s stored rows
     * @param bStride elements between consecutive products' {@code B} (0: shared)
     * @param beta    scale of {@code C}'s old value (0: not read)
     * @param c       {@code C [M, N]}, row-major
     * @param cRow    elements between {@code C}'s rows
     * @param cStride elements between consecutive products' {@code C}
     * @param batch   products
     * @param abType  storage type of {@code A} and {@code B}
     * @param cType   storage type of {@code C}
     * @return the call
     */
    static GemmCall rowMajor(int rows, int cols, int inner, float alpha, DevicePointer a, boolean transA, int aRow,
                             long aStride, DevicePointer b, boolean transB, int bRow, long bStride, float beta,
                             DevicePointer c, int cRow, long cStride, int batch, DType abType, DType cType) {
        return new GemmCall(transB, transA, cols, rows, inner, alpha, b, bRow, bStride, a, aRow, aStride, beta, c, cRow,
                cStride, batch, abType, cType);
    }
}
