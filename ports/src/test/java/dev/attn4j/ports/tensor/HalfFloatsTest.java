package dev.attn4j.ports.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HalfFloatsTest {

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, HalfFloats.toBf16(1.0f));
        assertEquals((short) 0x3EAB, HalfFloats.toBf16(1.0f / 3));
        // 1 + 2^-8 is halfway between two bf16 values: ties go to the even mantissa (1.0).
        assertEquals((short) 0x3F80, HalfFloats.toBf16(Float.intBitsToFloat(0x3F808000)));
        // 1 + 3·2^-8 is halfway too: ties go up to the even 1 + 2^-6.
        assertEquals((short) 0x3F82, HalfFloats.toBf16(Float.intBitsToFloat(0x3F818000)));
        assertEquals(0.333984375f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f / 3)));
        assertTrue(Float.isNaN(HalfFloats.fromBf16(HalfFloats.toBf16(Float.NaN))));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.fromBf16(HalfFloats.toBf16(Float.NEGATIVE_INFINITY)));
    }

    @Test
    void f16NaNsAreQuietedTheSameWayEveryTime() {
        float signalling = Float.intBitsToFloat(0x7F800001 | (0x155 << 13));
        assertEquals((short) (0x7E00 | 0x155), HalfFloats.toF16(signalling));
        assertEquals((short) 0xFE00, HalfFloats.toF16(Float.intBitsToFloat(0xFF800001)));
        assertEquals(0x7FC00000 | (0x155 << 13), Float.floatToRawIntBits(HalfFloats.fromF16((short) (0x7C00 | 0x155))));
    }

    @Test
    void f16AndDispatchByDtype() {
        assertEquals(0.333251953125f, HalfFloats.from(DType.F16, HalfFloats.to(DType.F16, 1.0f / 3)));
        assertEquals(65504f, HalfFloats.fromF16(HalfFloats.toF16(65504f)));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.fromF16(HalfFloats.toF16(70000f)));
        assertEquals(0.333984375f, HalfFloats.from(DType.BF16, HalfFloats.to(DType.BF16, 1.0f / 3)));
    }
}
