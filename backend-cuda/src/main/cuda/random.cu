// Uniform fill from the Philox stream of attention dropout (ports' UniformRequest): element n (the tensor's own
// flat index, a view's counted from its first element) takes word n & 3 of Philox4x32-10 for counter
// (lo(n >> 2), hi(n >> 2), lo(offset), hi(offset)) under key (lo(seed), hi(seed)); u = (w >> 8)·2^-24, and the
// value fma(u, high − low, low) in fp32 (range = high − low rounded to float by the host, as the cpu backend
// does), stored rounded to T. Bit-identical to every other backend. One thread per group of four elements, so
// each Philox block is computed once.
#include "mods.cuh"

using namespace attn4j;

namespace {

constexpr int RANDOM_THREADS = 256;

template <typename T>
__device__ void uniformFill(T* __restrict__ y, long long count, float low, float range, unsigned seedLo,
                            unsigned seedHi, unsigned offLo, unsigned offHi) {
    const long long groups = (count + 3) / 4;
    const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long q = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; q < groups; q += step) {
        unsigned w[4] = {static_cast<unsigned>(q), static_cast<unsigned>(static_cast<unsigned long long>(q) >> 32),
                         offLo, offHi};
        philox4x32_10(w, seedLo, seedHi);
        for (int lane = 0; lane < 4; ++lane) {
            const long long n = 4 * q + lane;
            if (n < count) {
                const float u = static_cast<float>(w[lane] >> 8) * 0x1p-24f;
                y[n] = st<T>(fmaf(u, range, low));
            }
        }
    }
}

}  // namespace

#define ATTN4J_UNIFORM(T, NAME)                                                                                    \
    extern "C" __global__ void __launch_bounds__(RANDOM_THREADS) uniform_##NAME(                                   \
        T* y, long long count, float low, float range, unsigned seedLo, unsigned seedHi, unsigned offLo,           \
        unsigned offHi) {                                                                                          \
        uniformFill<T>(y, count, low, range, seedLo, seedHi, offLo, offHi);                                        \
    }

ATTN4J_UNIFORM(float, f32)
ATTN4J_UNIFORM(__half, f16)
ATTN4J_UNIFORM(__nv_bfloat16, bf16)
