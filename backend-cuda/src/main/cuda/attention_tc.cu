// Attention forward on tensor cores (WMMA, bf16/fp16 inputs, fp32 accumulation); opt-in (backend option
// tensorCores=true) until it has been measured against the scalar kernels of attention.cu on a GPU.
// Same semantics as attention.cu's forward (docs/design.md §4): bottom-right causal mask, GQA/MQA, empty rows give
// o = 0 and lse = -inf. Probabilities are rounded to the storage type before P·V, as FlashAttention does.
//
// A block of 4 warps owns 64 query rows, 16 per warp. Per key tile of 32 keys: S = Q·K^T on tensor cores
// into shared memory; the warp's lanes (2 per row, 16 keys each) apply scale and mask, update the online
// softmax and rescale the row's fp32 output accumulator in shared memory; then O += P·V on tensor cores,
// loading and storing the accumulator through shared memory (the fragment layout is opaque, so every
// per-row operation happens in shared memory).
#include <mma.h>

#include "common.cuh"

using namespace attn4j;
using namespace nvcuda;

namespace {

constexpr int TC_WARPS = 4;
constexpr int TC_THREADS = TC_WARPS * 32;
constexpr int TC_ROWS = TC_WARPS * 16;   // query rows per block
constexpr int TC_KEYS = 32;              // keys per shared tile

__host__ __device__ constexpr int roundUp128(int bytes) { return (bytes + 127) / 128 * 128; }

// Shared-memory layout, with row pitches padded against bank conflicts and kept WMMA-legal (multiples of
// 8 halves / 4 floats; every fragment pointer 32-byte aligned).
template <int DMAX>
struct TcLayout {
    static constexpr int QK_PITCH = DMAX + 8;     // halves
    static constexpr int S_PITCH = TC_KEYS + 4;   // floats
    static constexpr int P_PITCH = TC_KEYS + 8;   // halves
    static constexpr int O_PITCH = DMAX + 4;      // floats
    static constexpr int Q_BYTES = roundUp128(TC_ROWS * QK_PITCH * 2);
    static constexpr int KV_BYTES = roundUp128(TC_KEYS * QK_PITCH * 2);
    static constexpr int S_BYTES = roundUp128(TC_WARPS * 16 * S_PITCH * 4);
    static constexpr int P_BYTES = roundUp128(TC_WARPS * 16 * P_PITCH * 2);
    static constexpr int O_BYTES = roundUp128(TC_WARPS * 16 * O_PITCH * 4);
    static constexpr int STAT_BYTES = roundUp128(2 * TC_ROWS * 4);
    static constexpr int TOTAL = Q_BYTES + 2 * KV_BYTES + S_BYTES + P_BYTES + O_BYTES + STAT_BYTES;
};

// Rows [first, first + rows) of one head of a [B, seq, heads, D] tensor into shared memory with pitch
// `pitch`, zero-filled past `seq` and past D.
template <typename T, int DMAX>
__device__ __forceinline__ void stageRows(T* dst, int pitch, const T* __restrict__ src, int b, int first, int rows,
                                          int seq, int heads, int head, int D) {
    for (int idx = threadIdx.x; idx < rows * DMAX; idx += TC_THREADS) {
        const int r = idx / DMAX;
        const int d = idx % DMAX;
        const int s = first + r;
        const size_t g = ((static_cast<size_t>(b) * seq + s) * heads + head) * static_cast<size_t>(D) + d;
        dst[r * pitch + d] = (s < seq && d < D) ? src[g] : st<T>(0.0f);
    }
}

template <typename T, int DMAX>
__device__ void attentionForwardTensorCores(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                            T* __restrict__ o, float* __restrict__ lse,
                                            int Sq, int Sk, int H, int Hkv, int D, int causal, float scale) {
    using L = TcLayout<DMAX>;
    ATTN4J_DYNAMIC_SMEM(smem);
    T* qs = reinterpret_cast<T*>(smem);
    T* ks = reinterpret_cast<T*>(smem + L::Q_BYTES);
    T* vs = reinterpret_cast<T*>(smem + L::Q_BYTES + L::KV_BYTES);
    float* ss = reinterpret_cast<float*>(smem + L::Q_BYTES + 2 * L::KV_BYTES);
    T* ps = reinterpret_cast<T*>(smem + L::Q_BYTES + 2 * L::KV_BYTES + L::S_BYTES);
    float* os = reinterpret_cast<float*>(smem + L::Q_BYTES + 2 * L::KV_BYTES + L::S_BYTES + L::P_BYTES);
    float* rowMax = reinterpret_cast<float*>(smem + L::Q_BYTES + 2 * L::KV_BYTES + L::S_BYTES + L::P_BYTES + L::O_BYTES);
    float* rowSum = rowMax + TC_ROWS;

    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int kvh = h / (H / Hkv);
    const int i0 = blockIdx.x * TC_ROWS;
    const int off = Sk - Sq;

    float* myS = ss + warp * 16 * L::S_PITCH;
    T* myP = ps + warp * 16 * L::P_PITCH;
    float* myO = os + warp * 16 * L::O_PITCH;

    stageRows<T, DMAX>(qs, L::QK_PITCH, q, b, i0, TC_ROWS, Sq, H, h, D);
    for (int idx = threadIdx.x; idx < TC_WARPS * 16 * L::O_PITCH; idx += TC_THREADS) {
        os[idx] = 0.0f;
    }
    if (threadIdx.x < TC_ROWS) {
        rowMax[threadIdx.x] = -CUDART_INF_F;
        rowSum[threadIdx.x] = 0.0f;
    }
    __syncthreads();

    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> qFrag[DMAX / 16];
#pragma unroll
    for (int kk = 0; kk < DMAX / 16; ++kk) {
        wmma::load_matrix_sync(qFrag[kk], qs + warp * 16 * L::QK_PITCH + kk * 16, L::QK_PITCH);
    }

    // This lane's row within the warp's 16, and which half of the tile's keys it scores.
    const int r = lane / 2;
    const int half = lane % 2;
    const int rowInBlock = warp * 16 + r;
    const int i = i0 + rowInBlock;

    const int lastRow = min(Sq, i0 + TC_ROWS) - 1;
    const int kvEnd = causal ? min(Sk, lastRow + off + 1) : Sk;
    bool poisoned = false;  // this lane saw a NaN or +inf logit of a visible key (the non-finite rule)
    for (int j0 = 0; j0 < kvEnd; j0 += TC_KEYS) {
        __syncthreads();  // every warp is done with the previous K/V tile
        stageRows<T, DMAX>(ks, L::QK_PITCH, k, b, j0, TC_KEYS, Sk, Hkv, kvh, D);
        stageRows<T, DMAX>(vs, L::QK_PITCH, v, b, j0, TC_KEYS, Sk, Hkv, kvh, D);
        __syncthreads();

        // S = Q · K^T for this warp's 16 rows and the tile's 32 keys.
#pragma unroll
        for (int n = 0; n < TC_KEYS / 16; ++n) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::fill_fragment(acc, 0.0f);
#pragma unroll
            for (int kk = 0; kk < DMAX / 16; ++kk) {
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> kFrag;
                wmma::load_matrix_sync(kFrag, ks + n * 16 * L::QK_PITCH + kk * 16, L::QK_PITCH);
                wmma::mma_sync(acc, qFrag[kk], kFrag, acc);
            }
            wmma::store_matrix_sync(myS + n * 16, acc, L::S_PITCH, wmma::mem_row_major);
        }
        __syncwarp();

        // Online softmax: two lanes per row, 16 keys each.
        const bool needMask = j0 + TC_KEYS > Sk || (causal && j0 + TC_KEYS - 1 > i0 + off);
        float s[16];
        float tileMax = -CUDART_INF_F;
#pragma unroll
        for (int c = 0; c < 16; ++c) {
            const int jj = half * 16 + c;
            float x = myS[r * L::S_PITCH + jj] * scale;
            if (needMask) {
                const int j = j0 + jj;
                if (j >= Sk || (causal && j > i + off)) {
                    x = -CUDART_INF_F;
                }
            }
            // Non-finite rule: a NaN or +inf logit of a visible key makes the row NaN (decided at the end).
            poisoned |= isnan(x) || x == CUDART_INF_F;
            s[c] = x;
            tileMax = fmaxf(tileMax, x);
        }
        tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 1));
        const float mOld = rowMax[rowInBlock];
        const float mNew = fmaxf(mOld, tileMax);
        // mNew = -inf: no visible key yet; nothing to add and nothing to rescale
        const float correction = mNew == -CUDART_INF_F ? 1.0f : expf(mOld - mNew);
        float partSum = 0.0f;
#pragma unroll
        for (int c = 0; c < 16; ++c) {
            const float p = mNew == -CUDART_INF_F ? 0.0f : expf(s[c] - mNew);
            myP[r * L::P_PITCH + half * 16 + c] = st<T>(p);
            partSum += p;  // l (and so lse) from the fp32 probabilities, as FlashAttention keeps it
        }
        partSum += __shfl_xor_sync(0xffffffffu, partSum, 1);
        for (int d = half; d < DMAX; d += 2) {
            myO[r * L::O_PITCH + d] *= correction;
        }
        __syncwarp();  // both lanes of a row read rowMax before either writes it
        if (half == 0) {
            rowMax[rowInBlock] = mNew;
            rowSum[rowInBlock] = rowSum[rowInBlock] * correction + partSum;
        }
        __syncwarp();

        // O += P · V for the warp's 16 rows, 16 output columns at a time.
#pragma unroll
        for (int t = 0; t < DMAX / 16; ++t) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::load_matrix_sync(acc, myO + t * 16, L::O_PITCH, wmma::mem_row_major);
#pragma unroll
            for (int kk = 0; kk < TC_KEYS / 16; ++kk) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pFrag;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vFrag;
                wmma::load_matrix_sync(pFrag, myP + kk * 16, L::P_PITCH);
                wmma::load_matrix_sync(vFrag, vs + kk * 16 * L::QK_PITCH + t * 16, L::QK_PITCH);
                wmma::mma_sync(acc, pFrag, vFrag, acc);
            }
            wmma::store_matrix_sync(myO + t * 16, acc, L::O_PITCH, wmma::mem_row_major);
        }
        __syncwarp();
    }

    // Two lanes per row write it out; a row is NaN if either lane saw a NaN or +inf logit (both lanes agree).
    const float lanePoison = poisoned ? 1.0f : 0.0f;
    const bool rowPoisoned = fmaxf(lanePoison, __shfl_xor_sync(0xffffffffu, lanePoison, 1)) > 0.0f;
    if (i < Sq) {
        const float l = rowSum[rowInBlock];
        const bool empty = l == 0.0f;
        const float inv = rowPoisoned ? CUDART_NAN_F : empty ? 0.0f : 1.0f / l;
        const size_t base = ((static_cast<size_t>(b) * Sq + i) * H + h) * static_cast<size_t>(D);
        for (int d = half; d < D; d += 2) {
            o[base + d] = st<T>(myO[r * L::O_PITCH + d] * inv);
        }
        if (half == 0) {
            lse[(static_cast<size_t>(b) * H + h) * Sq + i] =
                    rowPoisoned ? CUDART_NAN_F : empty ? -CUDART_INF_F : rowMax[rowInBlock] + logf(l);
        }
    }
}

}  // namespace

#define ATTN4J_ATTENTION_TC(T, NAME, DMAX)                                                                         \
    extern "C" __global__ void __launch_bounds__(TC_THREADS) attn_fwd_tc_##NAME##_d##DMAX(                         \
        const T* q, const T* k, const T* v, T* o, float* lse, int Sq, int Sk, int H, int Hkv, int D, int causal,   \
        float scale) {                                                                                             \
        attentionForwardTensorCores<T, DMAX>(q, k, v, o, lse, Sq, Sk, H, Hkv, D, causal, scale);                  \
    }                                                                                                              \
    extern "C" __global__ void attn_fwd_tc_##NAME##_d##DMAX##_smem(int* bytes) { *bytes = TcLayout<DMAX>::TOTAL; }

ATTN4J_ATTENTION_TC(__half, f16, 64)
ATTN4J_ATTENTION_TC(__half, f16, 128)
ATTN4J_ATTENTION_TC(__nv_bfloat16, bf16, 64)
ATTN4J_ATTENTION_TC(__nv_bfloat16, bf16, 128)
