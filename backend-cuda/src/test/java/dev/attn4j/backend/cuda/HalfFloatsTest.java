package dev.attn4j.backend.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host-side rounding of the 16-bit storage types (what an upload stores). */
class HalfFloatsTest {

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 lies halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one, 1.
        assertEquals(1.0f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f + 0x1p-8f)));
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
        assertEquals(1.0f + 0x1p-6f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f + 3 * 0x1p-8f)));
        // just above halfway rounds up
        assertEquals(1.0f + 0x1p-7f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f + 0x1p-8f + 0x1p-20f)));
        assertEquals(-2.5f, HalfFloats.fromBf16(HalfFloats.toBf16(-2.5f)));
    }

    @Test
    void bf16KeepsInfinitiesAndNaN() {
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.fromBf16(HalfFloats.toBf16(Float.POSITIVE_INFINITY)));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.fromBf16(HalfFloats.toBf16(Float.NEGATIVE_INFINITY)));
        assertTrue(Float.isNaN(HalfFloats.fromBf16(HalfFloats.toBf16(Float.NaN))));
        // a NaN whose payload sits only in the low half must not become infinity
        assertTrue(Float.isNaN(HalfFloats.fromBf16(HalfFloats.toBf16(Float.intBitsToFloat(0x7F800001)))));
    }

    @Test
    void f16RoundTripsItsValues() {
        assertEquals(0.333251953125f, HalfFloats.fromF16(HalfFloats.toF16(1.0f / 3)));
        assertEquals(65504f, HalfFloats.fromF16(HalfFloats.toF16(65504f)));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.fromF16(HalfFloats.toF16(70000f)));
    }
}
