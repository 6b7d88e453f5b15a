// Rotary position embedding with an optional xPos scale (ports' RotaryRequest): the first R = 2 * pairs
// features of every head of x [B, S, H, D] turn pairwise by their position's angle; the rest are copied.
// One thread per element; each computes its own output from its pair, so nothing races.
#include "common.cuh"

using namespace attn4j;

namespace {

template <typename T>
__device__ void rotary(const T* __restrict__ x, const float* __restrict__ cosines, const float* __restrict__ sines,
                       const float* __restrict__ scales, int seq, int heads, int dim, int pairs, int splitHalf,
                       int inverse, T* __restrict__ y, long long count) {
    const long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (e >= count) {
        return;
    }
    const int d = static_cast<int>(e % dim);
    const int n = static_cast<int>((e / (static_cast<long long>(dim) * heads)) % seq);
    if (d >= 2 * pairs) {
        y[e] = x[e];
        return;
    }
    // p: the pair; first: whether this element is the pair's first component.
    const int p = splitHalf ? (d < pairs ? d : d - pairs) : d / 2;
    const bool first = splitHalf ? d < pairs : (d % 2) == 0;
    const long long partner = e + (splitHalf ? (first ? pairs : -pairs) : (first ? 1 : -1));
    const float x1 = ld(first ? x[e] : x[partner]);
    const float x2 = ld(first ? x[partner] : x[e]);
    const size_t t = static_cast<size_t>(n) * pairs + p;
    const float c = cosines[t];
    const float s = inverse ? -sines[t] : sines[t];
    const float zeta = scales ? scales[t] : 1.0f;
    y[e] = st<T>(zeta * (first ? x1 * c - x2 * s : x1 * s + x2 * c));
}

}  // namespace

#define ATTN4J_ROTARY(T, NAME)                                                                                     \
    extern "C" __global__ void rotary_##NAME(const T* x, const float* cosines, const float* sines,                \
                                             const float* scales, int seq, int heads, int dim, int pairs,         \
                                             int splitHalf, int inverse, T* y, long long count) {                  \
        rotary<T>(x, cosines, sines, scales, seq, heads, dim, pairs, splitHalf, inverse, y, count);                \
    }

ATTN4J_ROTARY(float, f32)
ATTN4J_ROTARY(__half, f16)
ATTN4J_ROTARY(__nv_bfloat16, bf16)
