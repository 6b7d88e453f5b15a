// Device-side tensor operations of ports' TensorPort: strided block copies (CopyRequest), casts between the
// floating types, and rows filled from a vector (a bias broadcast over rows, before a GEMM adds into them).
// Pointers arrive already offset to the first element touched (views and CopyRequest offsets are applied on
// the host), so the kernels see plain arrays. Every loop is grid-stride over a 64-bit element index: the
// launcher caps the grid, and a tensor of more than 2^31 elements still has each element visited once.
#include "common.cuh"

using namespace attn4j;

namespace {

constexpr int TENSOR_THREADS = 256;

// dst[r * dstStride + c] = src[r * srcStride + c] for r < rows, c < cols. E is an unsigned integer of the
// element's size: a copy moves bits, whatever the dtype (F32, F16, BF16, I32, BOOL).
template <typename E>
__device__ void copyRows(const E* __restrict__ src, long long srcStride, E* __restrict__ dst, long long dstStride,
                         long long rows, long long cols) {
    const long long total = rows * cols;
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
        const long long r = e / cols;
        const long long c = e - r * cols;
        dst[r * dstStride + c] = src[r * srcStride + c];
    }
}

// y[i] = x[i] converted: widened to fp32 exactly, then rounded to nearest even into U.
template <typename T, typename U>
__device__ void castElements(const T* __restrict__ x, U* __restrict__ y, long long count) {
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += step) {
        y[e] = st<U>(ld(x[e]));
    }
}

// y[r, c] = v[c] for r < rows: every row of y [rows, cols] a copy of the vector, converted to U.
template <typename T, typename U>
__device__ void broadcastRows(const T* __restrict__ v, U* __restrict__ y, long long rows, int cols) {
    const long long total = rows * cols;
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
        y[e] = st<U>(ld(v[e % cols]));
    }
}

}  // namespace

#define ATTN4J_COPY(E, NAME)                                                                                       \
    extern "C" __global__ void __launch_bounds__(TENSOR_THREADS) copy_rows_##NAME(                                 \
        const E* src, long long srcStride, E* dst, long long dstStride, long long rows, long long cols) {          \
        copyRows<E>(src, srcStride, dst, dstStride, rows, cols);                                                   \
    }

#define ATTN4J_CAST(T, U, NAME)                                                                                    \
    extern "C" __global__ void __launch_bounds__(TENSOR_THREADS) cast_##NAME(const T* x, U* y, long long count) {  \
        castElements<T, U>(x, y, count);                                                                           \
    }

#define ATTN4J_BROADCAST_ROWS(T, U, NAME)                                                                          \
    extern "C" __global__ void __launch_bounds__(TENSOR_THREADS) broadcast_rows_##NAME(                            \
        const T* v, U* y, long long rows, int cols) {                                                              \
        broadcastRows<T, U>(v, y, rows, cols);                                                                     \
    }

ATTN4J_COPY(unsigned char, u8)
ATTN4J_COPY(unsigned short, u16)
ATTN4J_COPY(unsigned int, u32)
ATTN4J_CAST(float, __half, f32_f16)
ATTN4J_CAST(float, __nv_bfloat16, f32_bf16)
ATTN4J_CAST(__half, float, f16_f32)
ATTN4J_CAST(__nv_bfloat16, float, bf16_f32)
ATTN4J_CAST(__half, __nv_bfloat16, f16_bf16)
ATTN4J_CAST(__nv_bfloat16, __half, bf16_f16)
// A bias into rows of its own type (linear forward), or into fp32 logits (the cross-entropy's chunks).
ATTN4J_BROADCAST_ROWS(float, float, f32_f32)
ATTN4J_BROADCAST_ROWS(__half, __half, f16_f16)
ATTN4J_BROADCAST_ROWS(__nv_bfloat16, __nv_bfloat16, bf16_bf16)
ATTN4J_BROADCAST_ROWS(__half, float, f16_f32)
ATTN4J_BROADCAST_ROWS(__nv_bfloat16, float, bf16_f32)
