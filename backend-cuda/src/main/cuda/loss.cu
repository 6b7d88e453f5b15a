// The softmax half of the fused linear cross-entropy (ports' CrossEntropyRequest, Liger-Kernel's scheme). The
// logits of one chunk of rows, z = h·Wᵀ (+ b), come from cuBLAS in fp32; ce_rows turns each row into its loss and,
// when gradients are wanted, writes g = gradScale·(softmax(z) − onehot(target)) over the logits in place (and, for
// 16-bit models, rounded into the storage-type buffer the next GEMMs read). Rows whose target is the ignore index
// lose nothing and get g = 0. ce_total adds the per-row losses and counts the counted rows in a fixed order.
#include "common.cuh"

using namespace attn4j;

namespace {

constexpr int CE_THREADS = 256;

template <typename T>
__device__ void crossEntropyRow(float* __restrict__ logits, T* __restrict__ grad, int writeStorage,
                                const int* __restrict__ targets, int vocab, int ignoreIndex, float gradScale,
                                int wantGrad, float* __restrict__ perToken) {
    const long long row = blockIdx.x;
    float* z = logits + row * vocab;
    T* g = grad + row * vocab;
    const int target = targets[row];
    if (target == ignoreIndex) {  // the whole block takes this branch: no barrier is split
        if (wantGrad) {
            for (int v = threadIdx.x; v < vocab; v += blockDim.x) {
                z[v] = 0.0f;
                if (writeStorage) {
                    g[v] = st<T>(0.0f);
                }
            }
        }
        if (threadIdx.x == 0) {
            perToken[row] = 0.0f;
        }
        return;
    }
    // Read before the barriers inside blockMax: after them the row is overwritten with the gradient. A target
    // outside [0, V) (which the ports reject before any launch) gives a NaN loss rather than a stray read.
    const float zTarget = target >= 0 && target < vocab ? z[target] : CUDART_NAN_F;
    float m = -CUDART_INF_F;
    for (int v = threadIdx.x; v < vocab; v += blockDim.x) {
        m = fmaxf(m, z[v]);
    }
    m = blockMax(m);
    float s = 0.0f;
    for (int v = threadIdx.x; v < vocab; v += blockDim.x) {
        s += expf(z[v] - m);
    }
    const float lse = m + logf(blockSum(s));
    if (threadIdx.x == 0) {
        perToken[row] = lse - zTarget;
    }
    if (wantGrad) {
        for (int v = threadIdx.x; v < vocab; v += blockDim.x) {
            const float p = expf(z[v] - lse);
            const float d = gradScale * (v == target ? p - 1.0f : p);
            z[v] = d;
            if (writeStorage) {
                g[v] = st<T>(d);
            }
        }
    }
}

}  // namespace

#define ATTN4J_CE_ROWS(T, NAME)                                                                                    \
    extern "C" __global__ void __launch_bounds__(CE_THREADS) ce_rows_##NAME(                                       \
        float* logits, T* grad, int writeStorage, const int* targets, int vocab, int ignoreIndex, float gradScale, \
        int wantGrad, float* perToken) {                                                                           \
        crossEntropyRow<T>(logits, grad, writeStorage, targets, vocab, ignoreIndex, gradScale, wantGrad, perToken);\
    }

ATTN4J_CE_ROWS(float, f32)
ATTN4J_CE_ROWS(__half, f16)
ATTN4J_CE_ROWS(__nv_bfloat16, bf16)

// lossSum[0] = Σ perToken (ignored rows hold 0), count[0] = rows whose target is not the ignore index. One block:
// thread t takes rows t, t + CE_THREADS, ... in order, in double, then a fixed tree.
extern "C" __global__ void __launch_bounds__(CE_THREADS) ce_total(const float* perToken, const int* targets,
                                                                  long long rows, int ignoreIndex, float* lossSum,
                                                                  float* count) {
    double loss = 0.0;
    double counted = 0.0;
    for (long long r = threadIdx.x; r < rows; r += blockDim.x) {
        loss += perToken[r];
        counted += targets[r] != ignoreIndex ? 1.0 : 0.0;
    }
    loss = blockSumDouble(loss);
    counted = blockSumDouble(counted);
    if (threadIdx.x == 0) {
        lossSum[0] = static_cast<float>(loss);
        count[0] = static_cast<float>(counted);
    }
}
