// 16-bit storage <-> fp32 working copies. Integer bit arithmetic throughout, so the results match
// dev.attn4j.ports.tensor.HalfFloats bit for bit whatever the device's denormal handling. NaN comes out quiet
// with the payload bits that fit, as x86's F16C conversions (and so HotSpot's compiled Float.floatToFloat16 /
// float16ToFloat) give it; Java's interpreted code keeps a signalling NaN signalling, so HalfFloats' NaN
// payload depends on whether it ran compiled.

// IEEE binary16 -> binary32: exact.
inline uint f16_bits_to_f32(uint h) {
    uint sign = (h & 0x8000u) << 16;
    uint e = (h >> 10) & 0x1fu;
    uint m = h & 0x3ffu;
    if (e == 0x1fu) return sign | 0x7f800000u | (m != 0u ? 0x400000u : 0u) | (m << 13);   // inf; NaN made quiet
    if (e != 0u) return sign | ((e + 112u) << 23) | (m << 13);   // normal: rebias 15 -> 127
    if (m == 0u) return sign;
    // Subnormal: m * 2^-24 is an exact, normal float.
    return sign | as_uint((float) m * 0x1.0p-24f);
}

// binary32 -> binary16, round to nearest even; >= 65520 overflows to inf; NaN quiet, sign and upper payload kept.
inline uint f32_bits_to_f16(uint b) {
    uint sign = (b >> 16) & 0x8000u;
    uint a = b & 0x7fffffffu;
    if (a > 0x7f800000u) {
        return sign | 0x7e00u | ((b >> 13) & 0x3ffu);
    }
    if (a >= 0x477ff000u) return sign | 0x7c00u;     // 65504 + half an ulp and up, inf included
    if (a <= 0x33000000u) return sign;               // 2^-25 (half the least subnormal) and below
    int e = (int) (a >> 23) - 127;
    uint m = (a & 0x7fffffu) | 0x800000u;
    uint shift = e < -14 ? (uint) (13 - 14 - e) : 13u;
    uint t = m >> shift;
    uint rest = m & ((1u << shift) - 1u);
    uint halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (t & 1u))) t++;
    // Normal: t carries the hidden bit at 2^10, so adding it lifts the exponent field by one (and a
    // rounding carry to 2^11 by one more). Subnormal: t is the field itself (2^10 once rounded up to normal).
    return e < -14 ? sign | t : sign | ((((uint) (e + 15)) << 10) + t - 0x400u);
}

inline uint f32_bits_to_bf16(uint b) {
    if ((b & 0x7fffffffu) > 0x7f800000u) return (b >> 16) | 0x0040u;   // stays a quiet NaN
    return (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;
}

__kernel void widen_f16(__global const ushort *in, __global uint *out, long n) {
    long i = get_global_id(0);
    if (i < n) out[i] = f16_bits_to_f32(in[i]);
}

__kernel void widen_bf16(__global const ushort *in, __global uint *out, long n) {
    long i = get_global_id(0);
    if (i < n) out[i] = ((uint) in[i]) << 16;
}

// The fp32 side is read as bits, so no float load can flush a subnormal or touch a NaN.
__kernel void narrow_f16(__global const uint *in, __global ushort *out, long n) {
    long i = get_global_id(0);
    if (i < n) out[i] = (ushort) f32_bits_to_f16(in[i]);
}

__kernel void narrow_bf16(__global const uint *in, __global ushort *out, long n) {
    long i = get_global_id(0);
    if (i < n) out[i] = (ushort) f32_bits_to_bf16(in[i]);
}

// F16 <-> BF16 (TensorPort.cast): widened exactly to fp32 bits, then rounded once to the other type.
__kernel void f16_to_bf16(__global const ushort *in, __global ushort *out, long n) {
    long i = get_global_id(0);
    if (i < n) out[i] = (ushort) f32_bits_to_bf16(f16_bits_to_f32(in[i]));
}

__kernel void bf16_to_f16(__global const ushort *in, __global ushort *out, long n) {
    long i = get_global_id(0);
    if (i < n) out[i] = (ushort) f32_bits_to_f16(((uint) in[i]) << 16);
}
