package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionShape;

import java.util.Arrays;

/**
 * Which keys a query row may see by the causal and window options (docs/design.md §4): one interval of key columns
 * per row, bottom-right aligned ({@code offset = Sk − Sq}). The kernels visit only the key tiles these intervals
 * reach, and, on edge tiles, only the columns some row of the tile sees; the other masks come per tile
 * ({@link TileClasses}).
 *
 * <p>Window arithmetic is done in long: {@code i + off − left} and {@code j0 − off − right} overflow int for windows
 * near {@link Integer#MAX_VALUE} (the request records store such windows as −1, but these rules must be right for
 * any options they are given).
 */
final class KeyRanges {
    private final int seqQ;
    private final int seqK;
    private final int offset;
    private final boolean causal;
    private final int left;
    private final int right;

    KeyRanges(AttentionShape shape, AttentionOptions o) {
        this.seqQ = shape.seqQ();
        this.seqK = shape.seqK();
        this.offset = shape.offset();
        this.causal = o.causal();
        this.left = o.windowLeft();
        this.right = o.windowRight();
    }

    /** First key column row {@code i} may see. */
    int rowBegin(int i) {
        return left >= 0 ? (int) Math.max(0, Math.min(seqK, (long) i + offset - left)) : 0;
    }

    /** One past the last key column row {@code i} may see. */
    int rowEnd(int i) {
        long end = seqK;
        if (causal) {
            end = Math.min(end, (long) i + offset + 1);
        }
        if (right >= 0) {
            end = Math.min(end, (long) i + offset + right + 1);
        }
        return (int) Math.max(0, end);
    }

    /** The first query row that may see any key column from {@code j0} on. */
    int firstRow(int j0) {
        int reach = causal ? (right >= 0 ? Math.min(right, 0) : 0) : right;
        return reach < 0 ? 0 : (int) Math.max(0, Math.min(seqQ, (long) j0 - offset - reach));
    }

    /** One past the last query row that may see any key column below {@code j1}. */
    int endRow(int j1) {
        return left < 0 ? seqQ : (int) Math.max(0, Math.min(seqQ, (long) j1 - 1 + left - offset + 1));
    }

    /** Sets the scores of row {@code i} (columns {@code j0 .. j0+cols} at {@code s[base ..]}) it may not see to −∞. */
    void maskRow(float[] s, int base, int i, int j0, int cols) {
        int begin = rowBegin(i) - j0;
        int end = rowEnd(i) - j0;
        if (begin > 0) {
            Arrays.fill(s, base, base + Math.min(begin, cols), Float.NEGATIVE_INFINITY);
        }
        if (end < cols) {
            Arrays.fill(s, base + Math.max(end, 0), base + cols, Float.NEGATIVE_INFINITY);
        }
    }
}
