// Host stand-in for CUDA's cuda_fp16.h (host emulation of the kernels only): just what common.cuh uses,
// plus the CUDA keywords and built-ins the kernels use, mapped to std::thread-per-CUDA-thread emulation.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
// Blocks run one after another, so a function-local static is exactly one block's shared memory.
#define __shared__ static
#define __host__
#define __align__(n) alignas(n)
// Dynamic shared memory: one buffer, sized by the launcher.
inline unsigned char* dynamicSmem;
#define ATTN4J_DYNAMIC_SMEM(name) unsigned char* name = dynamicSmem

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
inline thread_local dim3 threadIdx;
inline dim3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;
inline std::unique_ptr<std::barrier<>> blockBarrier;
inline float shuffleSlots[1024];

inline void __syncthreads() { blockBarrier->arrive_and_wait(); }
// Kernels call __syncwarp uniformly across the block, so a block barrier is a (stricter) stand-in.
inline void __syncwarp() { blockBarrier->arrive_and_wait(); }

// Every kernel calls shuffles uniformly across the block, so a block-wide exchange emulates the warp's.
inline float __shfl_xor_sync(unsigned, float x, int laneMask) {
    const unsigned t = threadIdx.x;
    shuffleSlots[t] = x;
    blockBarrier->arrive_and_wait();
    const float other = shuffleSlots[t ^ static_cast<unsigned>(laneMask)];
    blockBarrier->arrive_and_wait();
    return other;
}

inline int voteSlots[1024];
// Tiles the attention kernels skipped as fully masked (one count per block and tile).
inline std::atomic<long> skippedTiles{0};
#define ATTN4J_TILE_SKIPPED() skippedTiles.fetch_add(1)
// __syncthreads_and: every thread of the block votes; all get whether every vote was non-zero.
inline int __syncthreads_and(int predicate) {
    voteSlots[threadIdx.x] = predicate;
    blockBarrier->arrive_and_wait();
    int all = 1;
    for (unsigned t = 0; t < blockDim.x; ++t) all = all && voteSlots[t] != 0;
    blockBarrier->arrive_and_wait();
    return all;
}
inline unsigned __umulhi(unsigned a, unsigned b) { return static_cast<unsigned>((uint64_t(a) * b) >> 32); }

using std::max;
using std::min;
inline float fmaxf(float a, float b) { return std::fmax(a, b); }

struct __half { uint16_t bits; };
inline float __half2float(__half h) { _Float16 f; std::memcpy(&f, &h.bits, 2); return static_cast<float>(f); }
inline __half __float2half_rn(float x) { _Float16 f = static_cast<_Float16>(x); __half h; std::memcpy(&h.bits, &f, 2); return h; }
// CUDA's device isnan is a global function; the host's lives in std.
using std::isnan;
