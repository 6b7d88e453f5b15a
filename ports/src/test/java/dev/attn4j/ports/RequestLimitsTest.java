package dev.attn4j.ports;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 items 1 and 2: sizes at the edge of what int arithmetic can hold. Requests are built over
 * shape-only tensors (no storage), so shapes far beyond the heap can be checked.
 */
class RequestLimitsTest {

    /** A tensor with a shape and nothing behind it: requests read only shapes and dtypes. */
    private static DeviceTensor shaped(DType dtype, int... dims) {
        Shape shape = Shape.of(dims);
        return new DeviceTensor() {
            public Shape shape() { return shape; }
            public DType dtype() { return dtype; }
            public String backendName() { return "shape-only"; }
            public boolean isClosed() { return false; }
            public void close() { }
        };
    }

    @Test
    void tensorsOverTheIntLimitAreRejectedNamingTheArgument() {
        DeviceTensor q = shaped(DType.F32, 1, 65536, 32768, 1);
        DeviceTensor k = shaped(DType.F32, 1, 4, 32768, 1);
        var e = assertThrowsExactly(InvalidRequestException.class, () -> new AttentionRequest(q, k, k, null));
        assertEquals("q", e.argument());
        assertTrue(e.getMessage().startsWith("q: expected at most 2147483647 elements"), e.getMessage());
    }

    @Test
    void sequenceLengthsWhoseRelativePositionsOverflowIntAreRejected() {
        DeviceTensor q = shaped(DType.F32, 1, 1 << 30, 1, 1);
        DeviceTensor k = shaped(DType.F32, 1, (1 << 30) + 5, 1, 1);
        var e = assertThrowsExactly(InvalidRequestException.class, () -> new AttentionRequest(q, k, k, null));
        assertEquals("k: expected Sq + Sk <= 2147483647 (relative positions are indexed with int), got Sq = 1073741824, "
                + "Sk = 1073741829", e.getMessage());
    }

    @Test
    void biasTableWidthIsComputedWithoutOverflow() {
        var shape = new AttentionShape(1, Integer.MAX_VALUE, 2, 1, 1, 1);
        var e = assertThrowsExactly(InvalidRequestException.class, shape::biasTableShape);
        assertEquals("biasTable: expected Sq + Sk - 1 <= 2147483647 columns, got 2147483648", e.getMessage());
    }

    /**
     * A window side too wide to exclude anything is unbounded: kernels then never compute i + off - window with
     * a window near Integer.MAX_VALUE (which wrapped round and masked whole rows). Exact edges: a left window
     * of Sk - 1 reaches key 0 from the last row; a right window of Sq - 1 reaches key Sk - 1 from the first.
     */
    @ParameterizedTest
    @CsvSource({
            // Sq, Sk, left, right, stored left, stored right
            "8, 3, 2147483647, -1, -1, -1",
            "8, 3, -1, 2147483647, -1, -1",
            "3, 8, 2147483647, 2147483647, -1, -1",
            "5, 7, 6, 4, -1, -1",
            "5, 7, 5, 3, 5, 3",
            "5, 7, 0, 0, 0, 0",
            "5, 7, 2147483647, 0, -1, 0",
            "1, 1, 0, 0, -1, -1"})
    void unboundedWindowSidesAreStoredAsMinusOne(int sq, int sk, int left, int right, int wantLeft, int wantRight) {
        DeviceTensor q = shaped(DType.F32, 1, sq, 2, 4);
        DeviceTensor k = shaped(DType.F32, 1, sk, 2, 4);
        AttentionOptions given = AttentionOptions.builder().causal(true).window(left, right).softcap(2.0).build();
        AttentionOptions stored = new AttentionRequest(q, k, k, given).options();
        assertEquals(wantLeft, stored.windowLeft());
        assertEquals(wantRight, stored.windowRight());
        assertEquals(given.causal(), stored.causal());
        assertEquals(given.softcap(), stored.softcap());
        if (wantLeft == left && wantRight == right) {
            assertSame(given, stored, "options that need no change are kept as given");
        }
        DeviceTensor lse = shaped(DType.F32, 1, 2, sq);
        AttentionOptions backward = new AttentionBackwardRequest(q, q, k, k, q, lse, given).options();
        assertEquals(stored, backward, "backward normalises the same way");
        if (wantLeft < 0 && wantRight < 0) {
            assertFalse(stored.hasWindow(), "an unbounded window needs no SLIDING_WINDOW capability");
        }
    }
}
