package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionShape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 13 item 2: the key ranges' window arithmetic must not overflow, even for windows the request records
 * would have normalised to −1 (the ranges are built from options directly here, so the kernel arithmetic is
 * tested on its own). {@code window(Integer.MAX_VALUE, -1)} with Sq > Sk computed {@code i + off - left} in int,
 * which wrapped round to a large positive column: whole rows came out empty ({@code lse = −∞}).
 */
class KeyRangesWindowTest {

    @ParameterizedTest(name = "Sq={0} Sk={1} window=({2}, {3}) causal={4}")
    @CsvSource({
            "8, 3, 2147483647, -1, false",
            "8, 3, 2147483647, 2147483647, false",
            "3, 8, -1, 2147483647, false",
            "3, 8, 2147483647, 2147483647, false",
            "300, 200, 2147483647, 2147483647, true",
            "200, 300, 2147483647, -1, true",
            "8, 3, 2147483646, 2147483646, false"})
    void hugeWindowsMaskNothing(int sq, int sk, int left, int right, boolean causal) {
        AttentionShape shape = new AttentionShape(1, sq, sk, 1, 1, 16);
        AttentionOptions hugeWindow = AttentionOptions.builder().causal(causal).window(left, right).build();
        AttentionOptions noWindow = AttentionOptions.builder().causal(causal).build();
        KeyRanges huge = new KeyRanges(shape, hugeWindow);
        KeyRanges none = new KeyRanges(shape, noWindow);
        TileClasses hugeTiles = new TileClasses(shape, hugeWindow, huge, 128);
        TileClasses noneTiles = new TileClasses(shape, noWindow, none, 128);
        for (int i = 0; i < sq; i++) {
            assertEquals(none.rowBegin(i), huge.rowBegin(i), "first key of row " + i);
            assertEquals(none.rowEnd(i), huge.rowEnd(i), "end key of row " + i);
        }
        for (int j0 = 0; j0 < sk; j0 += 128) {
            int j1 = Math.min(sk, j0 + 128);
            assertEquals(none.firstRow(j0), huge.firstRow(j0), "first row seeing keys from " + j0);
            assertEquals(none.endRow(j1), huge.endRow(j1), "end row seeing keys below " + j1);
        }
        for (int i0 = 0; i0 < sq; i0 += 64) {
            int rows = Math.min(64, sq - i0);
            for (int kt = 0; kt * 128 < sk; kt++) {
                assertEquals(noneTiles.classify(0, 0, i0, rows, kt), hugeTiles.classify(0, 0, i0, rows, kt),
                        "tile (" + i0 + ", " + kt + ")");
            }
        }
    }
}
