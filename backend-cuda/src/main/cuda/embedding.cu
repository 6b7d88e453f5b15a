// Embedding look-up and its deterministic scatter-add backward (ports' EmbeddingPort).
//
// Backward without atomics: the tokens are sorted by (id, token index) — 64-bit keys id << 32 | t, unique, so a
// bitonic sort gives one order whatever the schedule — and then the first position of each id's run walks the
// run in token order, summing dy in fp32, and adds the sum into tableGrad once (the oracle's order). Rows no
// token reads are never written.
//
// The bitonic network sorts n = 2^p keys (the tail padded with ~0, which sorts last): emb_sort_block sorts each
// 1024-key segment in shared memory, alternating directions by segment as the network wants; for each later merge
// size k, emb_sort_step runs the strides j >= 1024 over global memory and emb_sort_merge the strides 512..1 of
// each segment in shared memory. CudaEmbedding launches that sequence.
#include "common.cuh"

using namespace attn4j;

namespace {

constexpr int EMB_THREADS = 256;
// Keys per shared-memory segment of the sort; SORT_THREADS threads each own one compare-exchange per stride.
constexpr int SORT_SEGMENT = 1024;
constexpr int SORT_THREADS = 512;
constexpr int EMB_COLUMN_THREADS = 128;

// y[t, c] = table[ids[t], c]; an id outside [0, V) (which the ports reject before any launch) reads as 0.
template <typename T>
__device__ void embeddingGather(const T* __restrict__ table, const int* __restrict__ ids, T* __restrict__ y,
                                long long tokens, int width, int vocab) {
    const long long total = tokens * width;
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
        const long long t = e / width;
        const int c = static_cast<int>(e - t * width);
        const int id = ids[t];
        y[e] = (id >= 0 && id < vocab) ? table[static_cast<long long>(id) * width + c] : st<T>(0.0f);
    }
}

// Orders a and b ascending (up) or descending.
__device__ __forceinline__ void compareExchange(unsigned long long& a, unsigned long long& b, bool up) {
    if ((a > b) == up) {
        const unsigned long long t = a;
        a = b;
        b = t;
    }
}

// The compare-exchanges of stride j within merge size k for the pairs of one shared segment. Thread i owns the
// pair (lo, lo + j) with lo = 2j·(i / j) + i % j; the direction is the global position's bit k.
__device__ __forceinline__ void sharedStride(unsigned long long* keys, long long segmentStart, int k, int j) {
    const int i = threadIdx.x;
    const int lo = 2 * j * (i / j) + (i % j);
    const bool up = ((segmentStart + lo) & k) == 0;
    compareExchange(keys[lo], keys[lo + j], up);
}

}  // namespace

#define ATTN4J_EMBEDDING(T, NAME)                                                                                  \
    extern "C" __global__ void __launch_bounds__(EMB_THREADS) emb_fwd_##NAME(                                      \
        const T* table, const int* ids, T* y, long long tokens, int width, int vocab) {                            \
        embeddingGather<T>(table, ids, y, tokens, width, vocab);                                                   \
    }                                                                                                              \
    /* One block per sorted position p and per 128 columns; only the first position of an id's run works. */     \
    extern "C" __global__ void __launch_bounds__(EMB_COLUMN_THREADS) emb_bwd_##NAME(                               \
        const unsigned long long* keys, const T* dy, T* tableGrad, long long tokens, int width) {                  \
        const long long p = blockIdx.x;                                                                            \
        const int c = blockIdx.y * blockDim.x + threadIdx.x;                                                       \
        const unsigned id = static_cast<unsigned>(keys[p] >> 32);                                                  \
        if (c >= width || (p > 0 && static_cast<unsigned>(keys[p - 1] >> 32) == id)) {                             \
            return;                                                                                                \
        }                                                                                                          \
        float s = 0.0f;                                                                                            \
        for (long long q = p; q < tokens && static_cast<unsigned>(keys[q] >> 32) == id; ++q) {                     \
            const long long t = static_cast<long long>(keys[q] & 0xffffffffull);                                   \
            s += ld(dy[t * width + c]);                                                                            \
        }                                                                                                          \
        const long long at = static_cast<long long>(id) * width + c;                                               \
        tableGrad[at] = st<T>(ld(tableGrad[at]) + s);                                                              \
    }

ATTN4J_EMBEDDING(float, f32)
ATTN4J_EMBEDDING(__half, f16)
ATTN4J_EMBEDDING(__nv_bfloat16, bf16)

// keys[i] = ids[i] << 32 | i for i < tokens, ~0 (sorting last) for the padding up to n.
extern "C" __global__ void __launch_bounds__(EMB_THREADS) emb_keys(const int* ids, unsigned long long* keys,
                                                                   long long tokens, long long n) {
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
        keys[i] = i < tokens ? (static_cast<unsigned long long>(static_cast<unsigned>(ids[i])) << 32)
                                   | static_cast<unsigned long long>(i)
                             : ~0ull;
    }
}

// Sorts each segment of min(n, SORT_SEGMENT) keys through merge sizes 2..segment (n a power of two).
extern "C" __global__ void __launch_bounds__(SORT_THREADS) emb_sort_block(unsigned long long* keys, long long n) {
    __shared__ unsigned long long segment[SORT_SEGMENT];
    const long long start = static_cast<long long>(blockIdx.x) * SORT_SEGMENT;
    const int size = static_cast<int>(min(n, static_cast<long long>(SORT_SEGMENT)));
    for (int i = threadIdx.x; i < size; i += blockDim.x) {
        segment[i] = keys[start + i];
    }
    __syncthreads();
    for (int k = 2; k <= size; k *= 2) {
        for (int j = k / 2; j > 0; j /= 2) {
            if (static_cast<int>(threadIdx.x) < size / 2) {
                sharedStride(segment, start, k, j);
            }
            __syncthreads();
        }
    }
    for (int i = threadIdx.x; i < size; i += blockDim.x) {
        keys[start + i] = segment[i];
    }
}

// One stride j (>= SORT_SEGMENT) of merge size k over all n keys: thread i owns the pair (lo, lo + j).
extern "C" __global__ void __launch_bounds__(SORT_THREADS) emb_sort_step(unsigned long long* keys, long long n, long long k,
                                                                       long long j) {
    const long long pairs = n / 2;
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < pairs; i += step) {
        const long long lo = 2 * j * (i / j) + (i % j);
        compareExchange(keys[lo], keys[lo + j], (lo & k) == 0);
    }
}

// The strides SORT_SEGMENT/2 .. 1 of merge size k (> SORT_SEGMENT), one shared segment per block.
extern "C" __global__ void __launch_bounds__(SORT_THREADS) emb_sort_merge(unsigned long long* keys, long long k) {
    __shared__ unsigned long long segment[SORT_SEGMENT];
    const long long start = static_cast<long long>(blockIdx.x) * SORT_SEGMENT;
    for (int i = threadIdx.x; i < SORT_SEGMENT; i += blockDim.x) {
        segment[i] = keys[start + i];
    }
    __syncthreads();
    for (int j = SORT_SEGMENT / 2; j > 0; j /= 2) {
        // the direction bit k lies above the segment: one direction for the whole segment
        const int i = threadIdx.x;
        const int lo = 2 * j * (i / j) + (i % j);
        compareExchange(segment[lo], segment[lo + j], (start & k) == 0);
        __syncthreads();
    }
    for (int i = threadIdx.x; i < SORT_SEGMENT; i += blockDim.x) {
        keys[start + i] = segment[i];
    }
}
