package dev.attn4j.ports.tensor;

/**
 * Conversions between {@code float} and the 16-bit storage types, as {@link TensorPort} promises them:
 * round to nearest even on the way in, exact widening on the way out. One place for every backend that
 * stores {@link DType#F16} or {@link DType#BF16} on the host side of a transfer.
 *
 * <pre>{@code
 * short bits = HalfFloats.toBf16(1.0f / 3);      // 0x3EAB
 * float back = HalfFloats.fromBf16(bits);       // 0.33398438
 * }</pre>
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    /**
     * IEEE binary16 bits of {@code x}, round to nearest even. A NaN becomes a quiet NaN with its sign and the
     * top ten payload bits: spelled out because {@code Float.floatToFloat16} quiets signalling NaNs when
     * compiled but not when interpreted, and results must not depend on the JIT.
     *
     * @param x the input
     * @return the binary16 bits
     */
    public static short toF16(float x) {
        if (Float.isNaN(x)) {
            int bits = Float.floatToRawIntBits(x);
            return (short) (((bits >>> 16) & 0x8000) | 0x7E00 | ((bits >>> 13) & 0x3FF));
        }
        return Float.floatToFloat16(x);
    }

    /**
     * {@return the value of IEEE binary16 {@code bits}; a NaN is widened quiet, sign and payload kept, as in {@link #toF16}}
     *
     * @param bits the raw bits
     */
    public static float fromF16(short bits) {
        if ((bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0) {
            return Float.intBitsToFloat(((bits & 0x8000) << 16) | 0x7FC00000 | ((bits & 0x3FF) << 13));
        }
        return Float.float16ToFloat(bits);
    }

    /**
     * {@return bfloat16 bits of {@code x}: the upper half of its binary32 bits, round to nearest even; NaN stays NaN}
     *
     * @param x the input
     */
    public static short toBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) {
            // Keep it a quiet NaN whatever mantissa bits survive the truncation.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /**
     * {@return the value of bfloat16 {@code bits}}
     *
     * @param bits the raw bits
     */
    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * {@return {@code x} stored as {@code dtype} (F16 or BF16) bits}
     *
     * @param dtype storage dtype
     * @param x the input
     */
    public static short to(DType dtype, float x) {
        return switch (dtype) {
            case F16 -> toF16(x);
            case BF16 -> toBf16(x);
            default -> throw new IllegalArgumentException("not a 16-bit floating type: " + dtype);
        };
    }

    /**
     * {@return the value of {@code dtype} (F16 or BF16) {@code bits}}
     *
     * @param dtype storage dtype
     * @param bits the raw bits
     */
    public static float from(DType dtype, short bits) {
        return switch (dtype) {
            case F16 -> fromF16(bits);
            case BF16 -> fromBf16(bits);
            default -> throw new IllegalArgumentException("not a 16-bit floating type: " + dtype);
        };
    }
}
