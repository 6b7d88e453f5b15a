package dev.attn4j.ports.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;

class ShapeTest {

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void dimensionBelowOneIsRejected(int bad) {
        var e = assertThrowsExactly(IllegalArgumentException.class, () -> Shape.of(2, bad, 3));
        assertEquals("dimension 1 of [2, " + bad + ", 3] must be >= 1", e.getMessage());
    }

    @Test
    void noDimensionsIsRejected() {
        var e = assertThrowsExactly(IllegalArgumentException.class, () -> Shape.of());
        assertEquals("a shape needs at least one dimension", e.getMessage());
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
