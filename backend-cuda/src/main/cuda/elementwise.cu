// The element-wise ops of ports' ElementwisePort (add, axpy, scale, broadcast multiply and its backward, token
// shift), and the column sums that the linear layer's bias gradient and the cross-entropy's reuse. Storage type
// T, fp32 arithmetic, one rounding per stored value. Element loops are grid-stride over 64-bit indices.
//
// Reductions never use atomics: a row sum is one block's fixed-order blockSum; a column sum runs in two passes,
// fixed row chunks (colsum_partials) then the chunks in order (colsum_totals), which adds into the accumulator
// with one rounding. So every result is bit-identical run to run.
#include "common.cuh"

using namespace attn4j;

namespace {

constexpr int EW_THREADS = 256;
constexpr int EW_COLUMN_THREADS = 128;
constexpr int EW_ROW_THREADS = 256;

#define ATTN4J_GRID_STRIDE(e, count)                                                                               \
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x,                              \
                   e##Step = static_cast<long long>(gridDim.x) * blockDim.x;                                       \
         e < (count); e += e##Step)

// y = a + alpha·b, rounded once (fma).
template <typename T>
__device__ void addKernel(const T* __restrict__ a, const T* __restrict__ b, float alpha, T* __restrict__ y,
                          long long count) {
    ATTN4J_GRID_STRIDE(e, count) { y[e] = st<T>(fmaf(alpha, ld(b[e]), ld(a[e]))); }
}

// y += alpha·x (x and y may be the very same elements: each thread reads its element before writing it).
template <typename T>
__device__ void axpyKernel(float alpha, const T* x, T* y, long long count) {
    ATTN4J_GRID_STRIDE(e, count) { y[e] = st<T>(fmaf(alpha, ld(x[e]), ld(y[e]))); }
}

template <typename T>
__device__ void scaleKernel(T* x, float alpha, long long count) {
    ATTN4J_GRID_STRIDE(e, count) { x[e] = st<T>(ld(x[e]) * alpha); }
}

// y[r, c] = x[r, c]·v[c] (byRows = 0) or x[r, c]·v[r] (byRows = 1), x viewed as [rows, cols].
template <typename T>
__device__ void broadcastMultiply(const T* __restrict__ x, const T* __restrict__ v, T* __restrict__ y,
                                  long long count, int cols, int byRows) {
    ATTN4J_GRID_STRIDE(e, count) {
        const long long r = e / cols;
        const float s = ld(v[byRows ? r : e - r * cols]);
        y[e] = st<T>(ld(x[e]) * s);
    }
}

// grad[r] += Σ_c dy[r, c]·x[r, c]: one block per row, summed in a fixed order.
template <typename T>
__device__ void rowDotAccumulate(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ grad, int cols) {
    const long long row = blockIdx.x;
    const long long base = row * cols;
    float s = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        s = fmaf(ld(dy[base + c]), ld(x[base + c]), s);
    }
    const float total = blockSum(s);
    if (threadIdx.x == 0) {
        grad[row] = st<T>(ld(grad[row]) + total);
    }
}

// partial[chunk, c] = Σ over the chunk's rows of x[r, c]·(hasY ? y[r, c] : 1).
template <typename T>
__device__ void columnPartials(const T* __restrict__ x, const T* __restrict__ y, int hasY, long long rows, int cols,
                               long long rowsPerChunk, float* __restrict__ partial) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const long long chunk = blockIdx.y;
    if (c >= cols) {
        return;
    }
    const long long first = chunk * rowsPerChunk;
    const long long last = min(rows, first + rowsPerChunk);
    float s = 0.0f;
    for (long long r = first; r < last; ++r) {
        const long long at = r * cols + c;
        s = hasY ? fmaf(ld(x[at]), ld(y[at]), s) : s + ld(x[at]);
    }
    partial[chunk * cols + c] = s;
}

// acc[c] += Σ_chunk partial[chunk, c], the chunks in order, one rounding into A.
template <typename A>
__device__ void columnTotals(const float* __restrict__ partial, int chunks, int cols, A* __restrict__ acc) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) {
        return;
    }
    float s = 0.0f;
    for (int k = 0; k < chunks; ++k) {
        s += partial[static_cast<long long>(k) * cols + c];
    }
    acc[c] = st<A>(ld(acc[c]) + s);
}

// Token shift of ports' TokenShiftRequest over x [B, S, C]: features [begin, begin + count) of token t come from
// token t − amount of the same row, or are 0 when that token is outside the row or in another document (or either
// is padding, a negative segment id); every other feature is copied.
template <typename T>
__device__ void tokenShift(const T* __restrict__ x, T* __restrict__ y, const int* __restrict__ segments,
                           int hasSegments, int seq, int cols, int begin, int count, int amount, long long total) {
    ATTN4J_GRID_STRIDE(e, total) {
        const int c = static_cast<int>(e % cols);
        if (c < begin || c >= begin + count) {
            y[e] = x[e];
            continue;
        }
        const long long token = e / cols;              // b·S + t
        const long long t = token % seq;
        const long long from = t - static_cast<long long>(amount);
        bool valid = from >= 0 && from < seq;
        if (valid && hasSegments) {
            const int mine = segments[token];
            const int theirs = segments[token - t + from];
            valid = mine >= 0 && theirs >= 0 && mine == theirs;
        }
        y[e] = valid ? x[e + (from - t) * cols] : st<T>(0.0f);
    }
}

}  // namespace

#define ATTN4J_ELEMENTWISE(T, NAME)                                                                                \
    extern "C" __global__ void __launch_bounds__(EW_THREADS) ew_add_##NAME(const T* a, const T* b, float alpha,   \
                                                                           T* y, long long count) {                \
        addKernel<T>(a, b, alpha, y, count);                                                                       \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(EW_THREADS) ew_axpy_##NAME(float alpha, const T* x, T* y,        \
                                                                            long long count) {                     \
        axpyKernel<T>(alpha, x, y, count);                                                                         \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(EW_THREADS) ew_scale_##NAME(T* x, float alpha, long long count) { \
        scaleKernel<T>(x, alpha, count);                                                                           \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(EW_THREADS) ew_bmul_##NAME(const T* x, const T* v, T* y,         \
                                                                            long long count, int cols,             \
                                                                            int byRows) {                          \
        broadcastMultiply<T>(x, v, y, count, cols, byRows);                                                        \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(EW_ROW_THREADS) ew_row_dot_##NAME(const T* x, const T* dy,        \
                                                                                   T* grad, int cols) {            \
        rowDotAccumulate<T>(x, dy, grad, cols);                                                                    \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(EW_COLUMN_THREADS) colsum_partials_##NAME(                        \
        const T* x, const T* y, int hasY, long long rows, int cols, long long rowsPerChunk, float* partial) {      \
        columnPartials<T>(x, y, hasY, rows, cols, rowsPerChunk, partial);                                          \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(EW_COLUMN_THREADS) colsum_totals_##NAME(                          \
        const float* partial, int chunks, int cols, T* acc) {                                                      \
        columnTotals<T>(partial, chunks, cols, acc);                                                               \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(EW_THREADS) token_shift_##NAME(                                   \
        const T* x, T* y, const int* segments, int hasSegments, int seq, int cols, int begin, int count,           \
        int amount, long long total) {                                                                             \
        tokenShift<T>(x, y, segments, hasSegments, seq, cols, begin, count, amount, total);                        \
    }

ATTN4J_ELEMENTWISE(float, f32)
ATTN4J_ELEMENTWISE(__half, f16)
ATTN4J_ELEMENTWISE(__nv_bfloat16, bf16)
