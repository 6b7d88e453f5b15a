package dev.attn4j.ports.tensor;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;

class ShapeTest {

    // Issue 13 item 17: the error names the argument and the dimension, as every validation error does.
    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void dimensionBelowOneIsRejected(int bad) {
        var e = assertThrowsExactly(InvalidRequestException.class, () -> Shape.of(2, bad, 3));
        assertEquals("shape", e.argument());
        assertEquals("shape: expected dimension 1 of [2, " + bad + ", 3] to be >= 1 (a tensor has no empty dimension), got "
                + bad, e.getMessage());
    }

    @Test
    void noDimensionsIsRejected() {
        var e = assertThrowsExactly(InvalidRequestException.class, () -> Shape.of());
        assertEquals("shape: expected at least one dimension, got []", e.getMessage());
    }

    // Issue 13 item 1: this count wrapped round to exactly 1, so a 1-element upload passed validation and the
    // opencl kernel then read far past its buffer (a JVM crash in POCL).
    @Test
    void elementCountOverflowingLongIsRejected() {
        var e = assertThrowsExactly(InvalidRequestException.class, () -> Shape.of(7623851, 3935371, 1229673, 1));
        assertEquals("shape: expected an element count that fits in 64 bits, got [7623851, 3935371, 1229673, 1], "
                + "whose count overflows", e.getMessage());
        assertThrowsExactly(InvalidRequestException.class,
                () -> Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE));
    }

    @Test
    void tensorsHoldAtMostIntMaxElements() {
        Shape big = Shape.of(65536, 32768);
        assertEquals(1L << 31, big.elementCount());
        assertFalse(big.fitsTensor());
        var e = assertThrowsExactly(InvalidRequestException.class, () -> big.requireFitsTensor("q"));
        assertEquals("q", e.argument());
        assertEquals("q: expected at most 2147483647 elements (backends index tensors with int), got 2147483648 "
                + "elements in [65536, 32768]", e.getMessage());
        Shape edge = Shape.of(Integer.MAX_VALUE, 1);
        assertTrue(edge.fitsTensor());
        assertEquals(edge, edge.requireFitsTensor("x"));
    }

    @Test
    void dimsAreCopiedBothWays() {
        int[] dims = {2, 3};
        Shape s = Shape.of(dims);
        dims[0] = 99;
        assertEquals(2, s.dim(0));
        s.dims()[1] = 99;
        assertEquals(3, s.dim(1));
        assertArrayEquals(new int[] {2, 3}, s.dims());
    }

    @Test
    void sizesAndNegativeIndices() {
        Shape s = Shape.of(2, 128, 8, 64);
        assertEquals(4, s.rank());
        assertEquals(64, s.dim(-1));
        assertEquals(2, s.dim(-4));
        assertEquals(2L * 128 * 8 * 64, s.elementCount());
        assertEquals(1L << 32, Shape.of(65536, 65536).elementCount(), "no int overflow");
        assertEquals("[2, 128, 8, 64]", s.toString());
    }

    @Test
    void valueEquality() {
        assertEquals(Shape.of(1, 2), Shape.of(1, 2));
        assertEquals(Shape.of(1, 2).hashCode(), Shape.of(1, 2).hashCode());
        assertNotEquals(Shape.of(1, 2), Shape.of(2, 1));
        assertNotEquals(Shape.of(2), Shape.of(2, 1));
    }
}
