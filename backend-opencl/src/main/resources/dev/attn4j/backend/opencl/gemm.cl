/*
 * Single-precision GEMM, C = alpha·op(A)·op(B) (+ bias[j]) + beta·C, batched over dimension 2 of the range
 * (docs/design.md §9; ClGemm drives it). Compile-time shape of the register block:
 *   MR  rows of C per work-item (1, 2, 4, 6 or 8)
 *   VW  floats per vector (4, 8 or 16), NV vectors per row (1 or 2): NB = NV·VW columns per work-item.
 * A work-item keeps its MR × NB block of C in MR·NV vector registers (the loops are unrolled by the macros
 * below: POCL and NVIDIA's compiler both keep them in registers only when unrolled) and walks the whole
 * reduction, so every element of C is one fp32 fma chain over p = 0..K-1 in order: deterministic, and the
 * same whatever the block sizes or the device's scheduling. The epilogue rounds alpha·acc, adds the bias,
 * then fma(beta, C, ·); beta = 0 never reads C.
 *
 * Operands are read through strides, so one kernel serves packed and unpacked layouts:
 *   A element (row i0 + r, step p) of block ib: A[aOff + ib·aBlock + r·aRow + p·aStep]
 *   B element (step p, column j0 + c) of block jb: B[bOff + jb·bBlock + p·bStep + c]  (columns contiguous)
 * Packed A ([blocks][K][MR], zero rows past M) is aBlock = K·MR, aRow = 1, aStep = MR; row-major A in place is
 * aBlock = MR·lda, aRow = lda, aStep = 1; a transposed A in place aBlock = MR, aRow = 1, aStep = lda. Rows past M
 * of an unpacked A are clamped to the last row (read, never stored). Packed B ([blocks][K][NB], zero columns past
 * N) is bBlock = K·NB, bStep = NB; row-major B in place (only when N is a multiple of NB, so no read passes the
 * buffer's end) is bBlock = NB, bStep = ldb.
 */
#pragma OPENCL FP_CONTRACT OFF

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define NB (NV * VW)

#if MR == 1
#define FOR_ROWS(X) X(0)
#elif MR == 2
#define FOR_ROWS(X) X(0) X(1)
#elif MR == 4
#define FOR_ROWS(X) X(0) X(1) X(2) X(3)
#elif MR == 6
#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#elif MR == 8
#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#else
#error "MR must be 1, 2, 4, 6 or 8"
#endif

#if NV == 1
#define DECLARE(r) VEC c##r##_0 = (VEC) (0.0f); const long ar##r = (long) min(r, rows - 1) * aRow;
#define STEP(r) { const VEC a = (VEC) (ap[ar##r]); c##r##_0 = fma(a, b0, c##r##_0); }
#define STORE(r) if (r < rows) { __global float* cr = C + cBase + (long) (i0 + r) * ldc; \
                                 store_vec(c##r##_0, j0, N, cr, alpha, beta, bias, has_bias); }
#define LOAD_RAW(r) if (r < rows) { c##r##_0 = load_raw(P + pBase + (long) (i0 + r) * ldp, j0, N); }
#define STORE_RAW(r) if (r < rows) { store_raw(c##r##_0, P + pBase + (long) (i0 + r) * ldp, j0, N); }
#elif NV == 2
#define DECLARE(r) VEC c##r##_0 = (VEC) (0.0f); VEC c##r##_1 = (VEC) (0.0f); \
                   const long ar##r = (long) min(r, rows - 1) * aRow;
#define STEP(r) { const VEC a = (VEC) (ap[ar##r]); c##r##_0 = fma(a, b0, c##r##_0); c##r##_1 = fma(a, b1, c##r##_1); }
#define STORE(r) if (r < rows) { __global float* cr = C + cBase + (long) (i0 + r) * ldc; \
                                 store_vec(c##r##_0, j0, N, cr, alpha, beta, bias, has_bias); \
                                 store_vec(c##r##_1, j0 + VW, N, cr, alpha, beta, bias, has_bias); }
#define LOAD_RAW(r) if (r < rows) { __global const float* pr = P + pBase + (long) (i0 + r) * ldp; \
                                    c##r##_0 = load_raw(pr, j0, N); c##r##_1 = load_raw(pr, j0 + VW, N); }
#define STORE_RAW(r) if (r < rows) { __global float* pr = P + pBase + (long) (i0 + r) * ldp; \
                                     store_raw(c##r##_0, pr, j0, N); store_raw(c##r##_1, pr, j0 + VW, N); }
#else
#error "NV must be 1 or 2"
#endif

/* Columns [j, j + VW) of one row of C, those below N. */
inline void store_vec(VEC acc, int j, int N, __global float* crow, float alpha, float beta,
                      __global const float* bias, int has_bias) {
    if (j + VW <= N) {
        VEC out = alpha * acc;
        if (has_bias) out = out + VLOAD(0, bias + j);
        if (beta != 0.0f) out = fma((VEC) (beta), VLOAD(0, crow + j), out);
        VSTORE(out, 0, crow + j);
    } else if (j < N) {
        float t[VW];
        VSTORE(acc, 0, t);
        for (int c = 0; c < N - j; c++) {
            float out = alpha * t[c];
            if (has_bias) out = out + bias[j + c];
            if (beta != 0.0f) out = fma(beta, crow[j + c], out);
            crow[j + c] = out;
        }
    }
}

/* Raw partial sums of columns [j, j + VW) below N (K chunks: a float store and load is exact, so the chain goes on). */
inline VEC load_raw(__global const float* prow, int j, int N) {
    if (j + VW <= N) {
        return VLOAD(0, prow + j);
    }
    float t[VW];
    for (int c = 0; c < VW; c++) {
        t[c] = j + c < N ? prow[j + c] : 0.0f;
    }
    return VLOAD(0, t);
}

inline void store_raw(VEC acc, __global float* prow, int j, int N) {
    if (j + VW <= N) {
        VSTORE(acc, 0, prow + j);
    } else if (j < N) {
        float t[VW];
        VSTORE(acc, 0, t);
        for (int c = 0; c < N - j; c++) {
            prow[j + c] = t[c];
        }
    }
}

/*
 * The reduction steps [p0, p1) of the product. phase bit 1: start from the raw partial sums in P (else from 0); bit 2:
 * the last chunk, apply the epilogue into C (else store the raw sums into P). One chunk [0, K) with phase 2 is the
 * whole product. P may be C itself when beta = 0 (C's old value is then never needed).
 */
__kernel void gemm(int M, int N, int K, float alpha,
                   __global const float* A, long aOff, long aBatch, long aBlock, long aRow, long aStep,
                   __global const float* B, long bOff, long bBatch, long bBlock, long bStep,
                   float beta, __global float* C, long cOff, long cBatch, long ldc,
                   __global const float* bias, int has_bias, int band,
                   int p0, int p1, int phase, __global float* P, long pOff, long pBatch, long ldp) {
    // band = 0: dimension 0 runs over row blocks, 1 over column blocks (GPUs). band > 0 (CPUs): a one-dimensional
    // range walked in bands of `band` row blocks, column block by column block, so the band's A panels stay in cache
    // while B's panels pass (B is re-read once per band); band < 0: bands of −band column blocks, A passing.
    int ib;
    int jb;
    if (band == 0) {
        ib = get_global_id(0);
        jb = get_global_id(1);
    } else {
        const int mBlocks = (M + MR - 1) / MR;
        const int nBlocks = (N + NB - 1) / NB;
        const int s = abs(band);
        const int across = band > 0 ? nBlocks : mBlocks;   // blocks of the other dimension
        const int along = band > 0 ? mBlocks : nBlocks;    // blocks of the banded dimension
        const long item = get_global_id(0);
        const int which = (int) (item / ((long) s * across));
        const int first = which * s;
        if (first >= along) {
            return;
        }
        const int size = min(s, along - first);
        const int r = (int) (item - (long) which * s * across);
        const int inBand = first + r % size;
        const int other = r / size;
        ib = band > 0 ? inBand : other;
        jb = band > 0 ? other : inBand;
    }
    const long e = get_global_id(2);
    const int i0 = ib * MR;
    const int j0 = jb * NB;
    if (i0 >= M || j0 >= N) {
        return;
    }
    const int rows = min(MR, M - i0);
    FOR_ROWS(DECLARE)
    const long pBase = pOff + e * pBatch;
    if (phase & 1) {
        FOR_ROWS(LOAD_RAW)
    }
    __global const float* ap = A + aOff + e * aBatch + (long) ib * aBlock + (long) p0 * aStep;
    __global const float* bp = B + bOff + e * bBatch + (long) jb * bBlock + (long) p0 * bStep;
    for (int p = p0; p < p1; p++) {
        const VEC b0 = VLOAD(0, bp);
#if NV == 2
        const VEC b1 = VLOAD(1, bp);
#endif
        FOR_ROWS(STEP)
        ap += aStep;
        bp += bStep;
    }
    if (phase & 2) {
        const long cBase = cOff + e * cBatch;
        FOR_ROWS(STORE)
    } else {
        FOR_ROWS(STORE_RAW)
    }
}

/* op(A) into [batch][blocks][K][MR], rows past M zero: op(A)(i, p) = A[aOff + e·aBatch + i·sRow + p·sStep]. */
__kernel void pack_a(int M, int K, __global const float* A, long aOff, long aBatch, long sRow, long sStep,
                     __global float* out) {
    const int p = get_global_id(0);
    const int ib = get_global_id(1);
    const long e = get_global_id(2);
    if (p >= K) {
        return;
    }
    const long blocks = (M + MR - 1) / MR;
    __global float* o = out + ((e * blocks + ib) * K + p) * MR;
    __global const float* a = A + aOff + e * aBatch + (long) p * sStep;
    for (int r = 0; r < MR; r++) {
        const int i = ib * MR + r;
        o[r] = i < M ? a[(long) i * sRow] : 0.0f;
    }
}

/* op(B) into [batch][blocks][K][NB], columns past N zero: op(B)(p, j) = B[bOff + e·bBatch + p·sStep + j·sCol]. */
__kernel void pack_b(int N, int K, __global const float* B, long bOff, long bBatch, long sStep, long sCol,
                     __global float* out) {
    const int p = get_global_id(0);
    const int jb = get_global_id(1);
    const long e = get_global_id(2);
    if (p >= K) {
        return;
    }
    const long blocks = (N + NB - 1) / NB;
    __global float* o = out + ((e * blocks + jb) * K + p) * NB;
    __global const float* b = B + bOff + e * bBatch + (long) p * sStep;
    for (int c = 0; c < NB; c++) {
        const int j = jb * NB + c;
        o[c] = j < N ? b[(long) j * sCol] : 0.0f;
    }
}

/* C = beta·C over a batch of [M, N] blocks with row stride ldc (alpha = 0: the product is not computed). */
__kernel void scale_c(int M, int N, float beta, __global float* C, long cOff, long cBatch, long ldc) {
    const int j = get_global_id(0);
    const int i = get_global_id(1);
    const long e = get_global_id(2);
    if (i < M && j < N) {
        __global float* c = C + cOff + e * cBatch + (long) i * ldc + j;
        *c = beta == 0.0f ? 0.0f : beta * *c;
    }
}
