// Shared helpers of the attn4j CUDA kernels: storage-type conversion and reductions.
// Every kernel computes in fp32; T is the storage type (float, __half or __nv_bfloat16).
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <math_constants.h>

// Declares the kernel's dynamic shared memory (a macro so that the host emulation can supply its own).
#ifndef ATTN4J_DYNAMIC_SMEM
#define ATTN4J_DYNAMIC_SMEM(name) extern __shared__ __align__(128) unsigned char name[]
#endif

namespace attn4j {

__device__ __forceinline__ float ld(float x) { return x; }
__device__ __forceinline__ float ld(__half x) { return __half2float(x); }
__device__ __forceinline__ float ld(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T st(float x);
template <> __device__ __forceinline__ float st<float>(float x) { return x; }
template <> __device__ __forceinline__ __half st<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 st<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

// x rounded to what T can hold, as a float again (the identity for float).
template <typename T> __device__ __forceinline__ float roundTo(float x) { return ld(st<T>(x)); }

// Sum over groups of WIDTH consecutive lanes (WIDTH a power of two dividing 32). Every lane of the warp
// must call it: the full mask is used.
template <int WIDTH> __device__ __forceinline__ float groupSum(float x) {
#pragma unroll
    for (int o = WIDTH / 2; o > 0; o /= 2) {
        x += __shfl_xor_sync(0xffffffffu, x, o);
    }
    return x;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024). Every thread gets the same value,
// added in the same order every run. Every thread of the block must call it.
__device__ __forceinline__ float blockSum(float x) {
    __shared__ float warpSums[32];
    x = groupSum<32>(x);
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    __syncthreads();  // a previous call may still be reading warpSums
    if (lane == 0) {
        warpSums[warp] = x;
    }
    __syncthreads();
    float total = 0.0f;
    const int warps = blockDim.x >> 5;
    for (int w = 0; w < warps; ++w) {
        total += warpSums[w];
    }
    return total;
}

// Maximum over the whole block, with the contract of blockSum (every thread gets it; every thread must call).
// fmaxf ignores a NaN next to a number: callers that must propagate NaN do so through a later sum.
__device__ __forceinline__ float blockMax(float x) {
    __shared__ float warpMaxima[32];
#pragma unroll
    for (int o = 16; o > 0; o /= 2) {
        x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    }
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    __syncthreads();  // a previous call may still be reading warpMaxima
    if (lane == 0) {
        warpMaxima[warp] = x;
    }
    __syncthreads();
    float m = warpMaxima[0];
    const int warps = blockDim.x >> 5;
    for (int w = 1; w < warps; ++w) {
        m = fmaxf(m, warpMaxima[w]);
    }
    return m;
}

// Sum of one double per thread over the block, in a fixed tree order (blockDim.x a power of two, at most
// 1024); every thread gets the result. Every thread of the block must call it.
__device__ __forceinline__ double blockSumDouble(double x) {
    __shared__ double slots[1024];
    __syncthreads();  // a previous call may still be reading slots
    slots[threadIdx.x] = x;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (static_cast<int>(threadIdx.x) < half) {
            slots[threadIdx.x] += slots[threadIdx.x + half];
        }
        __syncthreads();
    }
    return slots[0];
}

}  // namespace attn4j
