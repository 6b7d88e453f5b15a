package dev.attn4j.backend.cuda;

/**
 * Conversions between {@code float} and the 16-bit storage types, on the host (uploads and downloads).
 * Both round to nearest even, as the ports' {@link dev.attn4j.ports.tensor.TensorPort} promises.
 */
final class HalfFloats {
    private HalfFloats() {
    }

    /** IEEE binary16 bits of {@code x}, round to nearest even. */
    static short toF16(float x) {
        return Float.floatToFloat16(x);
    }

    static float fromF16(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** bfloat16 bits of {@code x}: the upper half of its binary32 bits, round to nearest even; NaN stays NaN. */
    static short toBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) {
            return (short) ((bits >>> 16) | 0x0040);  // keep it a (quiet) NaN whatever mantissa bits survive
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}
