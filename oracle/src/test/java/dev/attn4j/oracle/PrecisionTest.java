package dev.attn4j.oracle;

import dev.attn4j.ports.tensor.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Rounding of chosen values, worked out by hand from the formats' definitions. */
class PrecisionTest {

    @Test
    void bf16RoundsToNearestEvenOnSevenMantissaBits() {
        assertEquals(1.0, Precision.BF16.round(1.0));
        assertEquals(1.0, Precision.BF16.round(1 + 0x1p-8));                 // tie, 1.0 is even
        assertEquals(1 + 0x1p-6, Precision.BF16.round(1 + 3 * 0x1p-8));      // tie, 1 + 2^-6 is even
        assertEquals(1 + 0x1p-7, Precision.BF16.round(1 + 0x1p-8 + 0x1p-20)); // above the tie
        assertEquals(3.140625, Precision.BF16.round(Math.PI));
        assertEquals(-3.140625, Precision.BF16.round(-Math.PI));
        assertEquals(Double.POSITIVE_INFINITY, Precision.BF16.round(Double.POSITIVE_INFINITY));
        assertEquals(Double.NaN, Precision.BF16.round(Double.NaN));
    }

    @Test
    void fp16RoundsToNearestEvenAndOverflows() {
        assertEquals(0.333251953125, Precision.FP16.round(1.0 / 3));
        assertEquals(65504.0, Precision.FP16.round(65504.0));
        assertEquals(Double.POSITIVE_INFINITY, Precision.FP16.round(65520.0)); // tie above the largest finite
        assertEquals(0x1p-24, Precision.FP16.round(0x1p-24));                 // smallest subnormal
    }

    @Test
    void fp32AndFp64() {
        assertEquals(0.100000001490116119384765625, Precision.FP32.round(0.1));
        assertEquals(0.1, Precision.FP64.round(0.1));
    }

    @Test
    void refPrecisionOfEachStorageType() {
        assertEquals(Precision.FP32, Precision.of(DType.F32));
        assertEquals(Precision.BF16, Precision.of(DType.BF16));
        assertEquals(Precision.FP16, Precision.of(DType.F16));
        assertThrows(IllegalArgumentException.class, () -> Precision.of(DType.I32));
    }
}
