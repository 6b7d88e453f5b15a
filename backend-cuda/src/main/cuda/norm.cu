// LayerNorm and RMSNorm over the last dimension C, forward and backward, with the fused residual form
// h = alpha * residual + input (docs/design.md §5, ports NormRequest). Statistics in fp32; h is rounded to the
// storage type T before it is normalised, because that rounded h is what is saved (as `sum`) for backward.
// G is gamma's (and beta's) type: float, or T itself.
//
// Row kernels use one block of NORM_THREADS per row. The gamma/beta gradients are column sums over rows;
// they are computed without atomics (fixed order, so bit-identical run to run) in two passes: partial
// sums over row chunks, then a sum of the chunks.
#include "common.cuh"

using namespace attn4j;

namespace {

constexpr int NORM_THREADS = 256;
constexpr int COLUMN_THREADS = 128;

template <typename T>
__device__ __forceinline__ float inputSum(const T* __restrict__ x, const T* __restrict__ residual, int hasResidual,
                                          float alpha, size_t idx) {
    const float in = ld(x[idx]);
    return hasResidual ? roundTo<T>(fmaf(alpha, ld(residual[idx]), in)) : in;
}

template <typename T, typename G>
__device__ void normForward(const T* __restrict__ x, const T* __restrict__ residual, int hasResidual, float alpha,
                            const G* __restrict__ gamma, const G* __restrict__ beta, int hasBeta, int rms, float eps,
                            int C, T* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd,
                            T* __restrict__ sum) {
    const size_t row = blockIdx.x;
    const size_t base = row * static_cast<size_t>(C);
    float mu = 0.0f;
    if (!rms) {
        float s = 0.0f;
        for (int c = threadIdx.x; c < C; c += blockDim.x) {
            s += inputSum(x, residual, hasResidual, alpha, base + c);
        }
        mu = blockSum(s) / C;
    }
    // Two passes (mean, then squared deviations) rather than E[h^2] - E[h]^2, which cancels badly.
    float sq = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        const float d = inputSum(x, residual, hasResidual, alpha, base + c) - mu;
        sq = fmaf(d, d, sq);
    }
    const float r = 1.0f / sqrtf(blockSum(sq) / C + eps);
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        const float h = inputSum(x, residual, hasResidual, alpha, base + c);
        float out = (h - mu) * r * ld(gamma[c]);
        if (hasBeta) {
            out += ld(beta[c]);
        }
        y[base + c] = st<T>(out);
        if (hasResidual) {
            sum[base + c] = st<T>(h);
        }
    }
    if (threadIdx.x == 0) {
        if (!rms) {
            mean[row] = mu;
        }
        rstd[row] = r;
    }
}

// dh = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma (RMSNorm drops the mean(g) term),
// plus dSum; dInput = dh, dResidual = alpha * dh.
template <typename T, typename G>
__device__ void normBackward(const T* __restrict__ h, const float* __restrict__ mean, const float* __restrict__ rstd,
                             const G* __restrict__ gamma, const T* __restrict__ dy, const T* __restrict__ dSum,
                             int hasDSum, int rms, int C, float alpha, T* __restrict__ dx, T* __restrict__ dResidual,
                             int hasResidual) {
    const size_t row = blockIdx.x;
    const size_t base = row * static_cast<size_t>(C);
    const float mu = rms ? 0.0f : mean[row];
    const float r = rstd[row];
    float gSum = 0.0f;
    float gxSum = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        const float g = ld(dy[base + c]) * ld(gamma[c]);
        const float xhat = (ld(h[base + c]) - mu) * r;
        gSum += g;
        gxSum = fmaf(g, xhat, gxSum);
    }
    const float gMean = rms ? 0.0f : blockSum(gSum) / C;
    const float gxMean = blockSum(gxSum) / C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        const float g = ld(dy[base + c]) * ld(gamma[c]);
        const float xhat = (ld(h[base + c]) - mu) * r;
        float dh = r * (g - gMean - xhat * gxMean);
        if (hasDSum) {
            dh += ld(dSum[base + c]);
        }
        dx[base + c] = st<T>(dh);
        if (hasResidual) {
            dResidual[base + c] = st<T>(alpha * dh);
        }
    }
}

// partial[chunk][c] = sum over the chunk's rows of dy * xhat (and of dy for beta).
template <typename T>
__device__ void normParamPartials(const T* __restrict__ h, const float* __restrict__ mean,
                                  const float* __restrict__ rstd, const T* __restrict__ dy, int rms, int rows, int C,
                                  int rowsPerChunk, float* __restrict__ gammaPartial, float* __restrict__ betaPartial) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int chunk = blockIdx.y;
    if (c >= C) {
        return;
    }
    const int first = chunk * rowsPerChunk;
    const int last = min(rows, first + rowsPerChunk);
    float g = 0.0f;
    float bsum = 0.0f;
    for (int row = first; row < last; ++row) {
        const size_t idx = static_cast<size_t>(row) * C + c;
        const float mu = rms ? 0.0f : mean[row];
        const float d = ld(dy[idx]);
        g = fmaf(d, (ld(h[idx]) - mu) * rstd[row], g);
        bsum += d;
    }
    gammaPartial[static_cast<size_t>(chunk) * C + c] = g;
    betaPartial[static_cast<size_t>(chunk) * C + c] = bsum;
}

template <typename G>
__device__ void normParamTotals(const float* __restrict__ gammaPartial, const float* __restrict__ betaPartial,
                                int chunks, int C, G* __restrict__ dGamma, G* __restrict__ dBeta, int hasBeta) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) {
        return;
    }
    float g = 0.0f;
    float bsum = 0.0f;
    for (int k = 0; k < chunks; ++k) {
        g += gammaPartial[static_cast<size_t>(k) * C + c];
        bsum += betaPartial[static_cast<size_t>(k) * C + c];
    }
    dGamma[c] = st<G>(g);
    if (hasBeta) {
        dBeta[c] = st<G>(bsum);
    }
}

}  // namespace

#define ATTN4J_NORM_ROWS(T, G, NAME)                                                                               \
    extern "C" __global__ void __launch_bounds__(NORM_THREADS) norm_fwd_##NAME(                                    \
        const T* x, const T* residual, int hasResidual, float alpha, const G* gamma, const G* beta, int hasBeta,   \
        int rms, float eps, int C, T* y, float* mean, float* rstd, T* sum) {                                       \
        normForward<T, G>(x, residual, hasResidual, alpha, gamma, beta, hasBeta, rms, eps, C, y, mean, rstd, sum);\
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(NORM_THREADS) norm_bwd_##NAME(                                    \
        const T* h, const float* mean, const float* rstd, const G* gamma, const T* dy, const T* dSum, int hasDSum, \
        int rms, int C, float alpha, T* dx, T* dResidual, int hasResidual) {                                       \
        normBackward<T, G>(h, mean, rstd, gamma, dy, dSum, hasDSum, rms, C, alpha, dx, dResidual, hasResidual);   \
    }

#define ATTN4J_NORM_PARTIALS(T, NAME)                                                                              \
    extern "C" __global__ void __launch_bounds__(COLUMN_THREADS) norm_param_partials_##NAME(                       \
        const T* h, const float* mean, const float* rstd, const T* dy, int rms, int rows, int C, int rowsPerChunk, \
        float* gammaPartial, float* betaPartial) {                                                                 \
        normParamPartials<T>(h, mean, rstd, dy, rms, rows, C, rowsPerChunk, gammaPartial, betaPartial);            \
    }

#define ATTN4J_NORM_TOTALS(G, NAME)                                                                                \
    extern "C" __global__ void __launch_bounds__(COLUMN_THREADS) norm_param_totals_##NAME(                         \
        const float* gammaPartial, const float* betaPartial, int chunks, int C, G* dGamma, G* dBeta, int hasBeta) {\
        normParamTotals<G>(gammaPartial, betaPartial, chunks, C, dGamma, dBeta, hasBeta);                          \
    }

// Row kernels are named by input type, then gamma type.
ATTN4J_NORM_ROWS(float, float, f32_f32)
ATTN4J_NORM_ROWS(__half, __half, f16_f16)
ATTN4J_NORM_ROWS(__half, float, f16_f32)
ATTN4J_NORM_ROWS(__nv_bfloat16, __nv_bfloat16, bf16_bf16)
ATTN4J_NORM_ROWS(__nv_bfloat16, float, bf16_f32)
ATTN4J_NORM_PARTIALS(float, f32)
ATTN4J_NORM_PARTIALS(__half, f16)
ATTN4J_NORM_PARTIALS(__nv_bfloat16, bf16)
ATTN4J_NORM_TOTALS(float, f32)
ATTN4J_NORM_TOTALS(__half, f16)
ATTN4J_NORM_TOTALS(__nv_bfloat16, bf16)
