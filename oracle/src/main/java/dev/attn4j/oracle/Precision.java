package dev.attn4j.oracle;

/**
 * The arithmetic the oracle emulates. {@link #FP64} is the golden reference; the others round every
 * stored intermediate to the tested storage type, which gives the "naive computation in the tested
 * dtype" of the pass rule (docs/design.md §7). Written from the IEEE-754 and bfloat16 definitions, independent
 * of any backend.
 *
 * <pre>{@code
 * double ref = Precision.of(DType.BF16).round(Math.PI);   // 3.140625
 * }</pre>
 */
public enum Precision {
    /** No rounding: the golden reference. */
    FP64,
    /** Round to binary32. */
    FP32,
    /** Round to binary16. */
    FP16,
    /** Round to bfloat16 (nearest even on the upper 16 bits of a binary32). */
    BF16;

    /**
     * The precision of the "ref" computation for a storage type: {@code F32 -> FP32}, {@code F16 -> FP16},
     * {@code BF16 -> BF16}.
     *
     * @param dtype storage dtype
     * @return the precision
     * @throws IllegalArgumentException for non-floating types
     */
    public static Precision of(dev.attn4j.ports.tensor.DType dtype) {
        return switch (dtype) {
            case F32 -> FP32;
            case F16 -> FP16;
            case BF16 -> BF16;
            default -> throw new IllegalArgumentException("dtype: expected F32, F16 or BF16, got " + dtype);
        };
    }

    /**
     * {@return the precision intermediate results are held in: binary32 for every reduced storage type (kernels
     * compute 16-bit data in fp32), none for {@link #FP64}}
     */
    public Precision accumulator() {
        return this == FP64 ? FP64 : FP32;
    }

    /**
     * {@return {@code x} rounded to this precision}
     *
     * @param x the input
     */
    public double round(double x) {
        return switch (this) {
            case FP64 -> x;
            case FP32 -> (float) x;
            case FP16 -> Float.float16ToFloat(Float.floatToFloat16((float) x));
            case BF16 -> roundBf16((float) x);
        };
    }

    private static float roundBf16(float f) {
        if (Float.isNaN(f)) {
            return f;
        }
        int bits = Float.floatToRawIntBits(f);
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7FFF + lsb;
        return Float.intBitsToFloat(rounded & 0xFFFF0000);
    }
}
