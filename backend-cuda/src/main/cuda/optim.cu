// Fused AdamW over one flat F32 range and the sum of squares of global-norm clipping (ports' OptimizerPort).
//
// AdamW: the step's constants are computed once per call on the host, in double, as PyTorch computes them in
// Python, and rounded to float (CudaOptimizer.step); each element then takes the cpu backend's fp32 sequence,
// so the two agree bit for bit:
//   g ← grad·clip, p ← p·decay, m ← fma(1 − β₁, g, β₁·m), v ← fma((1 − β₂)·g, g, β₂·v),
//   p ← fma(−stepSize, m / (√v / bc2Sqrt + ε), p).
// The clipping factor min(1, maxNorm / (√ss + 1e-6)) is computed on the device from the accumulated sum of
// squares (clip_grad_norm_'s formula in fp32), so no host round trip is needed; a NaN norm gives a NaN factor,
// as in PyTorch.
//
// Sum of squares: a fixed grid (SUMSQ_BLOCKS blocks whatever the device) sums x² in double, each thread over a
// fixed stride of elements, each block in a fixed tree; sumsq_final adds the block sums in order and the total
// into the accumulator with one rounding. Bit-identical run to run.
#include "common.cuh"

using namespace attn4j;

namespace {

constexpr int OPT_THREADS = 256;
constexpr int SUMSQ_BLOCKS = 256;
constexpr float CLIP_EPS = 1e-6f;

template <typename T>
__device__ void sumOfSquaresPartials(const T* __restrict__ x, long long count, double* __restrict__ partial) {
    double s = 0.0;
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += step) {
        const double v = ld(x[e]);
        s = fma(v, v, s);
    }
    s = blockSumDouble(s);
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = s;
    }
}

}  // namespace

extern "C" __global__ void __launch_bounds__(OPT_THREADS) adamw(
    float* params, const float* grads, float* expAvg, float* expAvgSq, long long count, const float* sumOfSquares,
    int hasClip, float maxNorm, float decay, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
    float negStepSize, float bc2Sqrt, float eps) {
    float clip = 1.0f;
    if (hasClip) {
        const float factor = maxNorm / (sqrtf(sumOfSquares[0]) + CLIP_EPS);
        clip = factor > 1.0f ? 1.0f : factor;  // NaN stays NaN (fminf would drop it)
    }
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += step) {
        const float g = grads[e] * clip;
        const float p = params[e] * decay;
        const float m = fmaf(oneMinusBeta1, g, beta1 * expAvg[e]);
        const float v = fmaf(oneMinusBeta2 * g, g, beta2 * expAvgSq[e]);
        const float denom = sqrtf(v) / bc2Sqrt + eps;
        params[e] = fmaf(negStepSize, m / denom, p);
        expAvg[e] = m;
        expAvgSq[e] = v;
    }
}

#define ATTN4J_SUMSQ(T, NAME)                                                                                      \
    extern "C" __global__ void __launch_bounds__(OPT_THREADS) sumsq_partials_##NAME(const T* x, long long count,  \
                                                                                    double* partial) {             \
        sumOfSquaresPartials<T>(x, count, partial);                                                                \
    }

ATTN4J_SUMSQ(float, f32)
ATTN4J_SUMSQ(__half, f16)
ATTN4J_SUMSQ(__nv_bfloat16, bf16)

// accumulator[0] += Σ partial[b] for b < blocks (at most SUMSQ_BLOCKS), in order, rounded once, by one thread.
extern "C" __global__ void sumsq_final(const double* partial, int blocks, float* accumulator) {
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        double total = 0.0;
        for (int b = 0; b < min(blocks, SUMSQ_BLOCKS); ++b) {
            total += partial[b];
        }
        accumulator[0] = static_cast<float>(accumulator[0] + total);
    }
}
