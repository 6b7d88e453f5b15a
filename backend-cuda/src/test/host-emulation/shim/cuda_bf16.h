#pragma once
#include "cuda_fp16.h"
struct __nv_bfloat16 { uint16_t bits; };
inline float __bfloat162float(__nv_bfloat16 b) { uint32_t u = static_cast<uint32_t>(b.bits) << 16; float f; std::memcpy(&f, &u, 4); return f; }
inline __nv_bfloat16 __float2bfloat16_rn(float x) {
    uint32_t u; std::memcpy(&u, &x, 4);
    if (std::isnan(x)) return {static_cast<uint16_t>((u >> 16) | 0x40)};
    u += 0x7FFF + ((u >> 16) & 1);
    return {static_cast<uint16_t>(u >> 16)};
}
