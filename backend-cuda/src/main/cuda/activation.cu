// Element-wise activations and gated linear units of ports' ActivationPort, forward and backward, one thread per
// element (grid-stride). Storage type T; every value is computed in fp32 and rounded once into T.
//
// Function codes (CudaActivation.code): 0 GELU (exact, erf), 1 GELU_TANH, 2 SILU, 3 RELU.
// GELU is x·Φ(x) with Φ(x) = erfc(−x/√2)/2, which keeps its digits for negative x where 1 + erf(x/√2) would
// cancel; SiLU and tanh-GELU are x·σ(z) written as x / (1 + e^−z), so that σ reaches 0 without 0·∞ and ±∞
// inputs give PyTorch's results; 1 − σ is e·σ for z > 0 (no cancellation on either side).
#include "common.cuh"

using namespace attn4j;

namespace {

constexpr int ACT_THREADS = 256;
constexpr float ACT_INV_SQRT2 = 0.70710678118654752f;
constexpr float ACT_INV_SQRT_2PI = 0.39894228040143268f;
constexpr float ACT_TWO_SQRT_2_OVER_PI = 1.5957691216057308f;
constexpr float ACT_KAPPA = 0.044715f;
constexpr float ACT_THREE_KAPPA = 0.134145f;

__device__ __forceinline__ float normalCdf(float x) {
    return 0.5f * erfcf(-x * ACT_INV_SQRT2);
}

// 2·√(2/π)·(x + κx³): the logistic argument of tanh-GELU (twice tanh's).
__device__ __forceinline__ float tanhGeluArg(float x) {
    return ACT_TWO_SQRT_2_OVER_PI * fmaf(ACT_KAPPA * x * x, x, x);
}

__device__ __forceinline__ float activate(int f, float x) {
    switch (f) {
        case 0:
            return x * normalCdf(x);
        case 1:
            return x / (1.0f + expf(-tanhGeluArg(x)));
        case 2:
            return x / (1.0f + expf(-x));
        default:
            return x < 0.0f ? 0.0f : x;  // NaN and -0 pass through, as in PyTorch
    }
}

// f'(x); ReLU's is 0 at 0, as PyTorch's.
__device__ __forceinline__ float derivative(int f, float x) {
    switch (f) {
        case 0:
            return fmaf(x, ACT_INV_SQRT_2PI * expf(-0.5f * x * x), normalCdf(x));
        case 1: {
            const float z = tanhGeluArg(x);
            const float e = expf(-z);
            const float sigma = 1.0f / (1.0f + e);
            const float rest = z > 0.0f ? e * sigma : 1.0f - sigma;
            const float slope = ACT_TWO_SQRT_2_OVER_PI * fmaf(ACT_THREE_KAPPA, x * x, 1.0f);
            return fmaf(x * sigma * rest, slope, sigma);
        }
        case 2: {
            const float e = expf(-x);
            const float sigma = 1.0f / (1.0f + e);
            const float rest = x > 0.0f ? e * sigma : 1.0f - sigma;
            return sigma * fmaf(x, rest, 1.0f);
        }
        default:
            return x > 0.0f ? 1.0f : 0.0f;
    }
}

template <typename T>
__device__ void activationForward(const T* __restrict__ x, T* __restrict__ y, long long count, int f) {
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += step) {
        y[e] = st<T>(activate(f, ld(x[e])));
    }
}

// dx = dy·f'(x); for ReLU exactly dy or 0 (so a NaN in dy where x <= 0 does not leak through a 0·NaN).
template <typename T>
__device__ void activationBackward(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx,
                                   long long count, int f) {
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += step) {
        const float xv = ld(x[e]);
        const float g = ld(dy[e]);
        dx[e] = st<T>(f == 3 ? (xv > 0.0f ? g : 0.0f) : g * derivative(f, xv));
    }
}

// y [rows, F] = a·f(g): row r's value at a[r·stride + j], its gate's input at g[r·stride + j]. The concatenated form
// x [rows, 2F] = [a | g] passes a = x, g = x + F and stride 2F (two read-only views of one buffer, which __restrict__
// allows as neither is written); the split form passes its two tensors [rows, F] and stride F.
template <typename T>
__device__ void gluForward(const T* __restrict__ a, const T* __restrict__ g, T* __restrict__ y, long long rows,
                           int half, int stride, int f) {
    const long long total = rows * half;
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
        const long long r = e / half;
        const long long at = r * stride + (e - r * half);
        y[e] = st<T>(ld(a[at]) * activate(f, ld(g[at])));
    }
}

// da = dy·f(g) into da[r·stride + j] and dg = (dy·a)·f'(g) into dg[r·stride + j], a and g read as gluForward reads
// them: dx [rows, 2F] laid out as x (da = dx, dg = dx + F, stride 2F), or stacked [2, rows, F] for the split form
// (da = dx, dg = dx + rows·F, stride F). da and dg never share an element.
template <typename T>
__device__ void gluBackward(const T* __restrict__ a, const T* __restrict__ g, const T* __restrict__ dy,
                            T* __restrict__ da, T* __restrict__ dg, long long rows, int half, int stride, int f) {
    const long long total = rows * half;
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
        const long long r = e / half;
        const long long at = r * stride + (e - r * half);
        const float av = ld(a[at]);
        const float gv = ld(g[at]);
        const float up = ld(dy[e]);
        da[at] = st<T>(up * activate(f, gv));
        const float upA = up * av;
        dg[at] = st<T>(f == 3 ? (gv > 0.0f ? upA : 0.0f) : upA * derivative(f, gv));
    }
}

}  // namespace

#define ATTN4J_ACTIVATION(T, NAME)                                                                                 \
    extern "C" __global__ void __launch_bounds__(ACT_THREADS) act_fwd_##NAME(const T* x, T* y, long long count,   \
                                                                             int f) {                              \
        activationForward<T>(x, y, count, f);                                                                      \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(ACT_THREADS) act_bwd_##NAME(const T* x, const T* dy, T* dx,       \
                                                                             long long count, int f) {             \
        activationBackward<T>(x, dy, dx, count, f);                                                                \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(ACT_THREADS) glu_fwd_##NAME(const T* a, const T* g, T* y,        \
                                                                             long long rows, int half, int stride, \
                                                                             int f) {                              \
        gluForward<T>(a, g, y, rows, half, stride, f);                                                             \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(ACT_THREADS) glu_bwd_##NAME(const T* a, const T* g, const T* dy,  \
                                                                             T* da, T* dg, long long rows,         \
                                                                             int half, int stride, int f) {        \
        gluBackward<T>(a, g, dy, da, dg, rows, half, stride, f);                                                   \
    }

ATTN4J_ACTIVATION(float, f32)
ATTN4J_ACTIVATION(__half, f16)
ATTN4J_ACTIVATION(__nv_bfloat16, bf16)
