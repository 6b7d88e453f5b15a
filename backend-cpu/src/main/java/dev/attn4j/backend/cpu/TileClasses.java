package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionShape;

import java.util.Arrays;

/**
 * How much masking each tile of the scores needs, and the masking itself: a tile no row of which sees any of its
 * keys is skipped, one every row of which sees all of its keys runs unmasked, and the rest are masked element by
 * element. Three masks decide it: the key ranges ({@link KeyRanges}), FlashMask's column-wise row intervals
 * (Wang et al., 2024), tested per tile against their per-key-tile min/max summaries, and a dense boolean mask (which
 * makes every visited tile partial).
 *
 * <p>Masks are O(S): FlashMask bounds are summarised per key tile ({@code O(Sk/BC)} per mask head); only the dense
 * mask is O(S²), and it is the caller's tensor.
 */
final class TileClasses {
    /** How much masking a tile needs. */
    enum Tile { SKIP, FULL, PARTIAL }

    private final KeyRanges keys;
    private final int seqQ;
    private final int seqK;
    private final int heads;
    private final boolean[] denseMask;
    private final int denseMaskOff;
    private final int[] denseMaskDims;

    // FlashMask, normalised to two masked row intervals per column: [a1, b1) ∪ [a2, b2), empty = (Sq, 0).
    private final int[] fmA1;
    private final int[] fmB1;
    private final int[] fmA2;
    private final int[] fmB2;
    private final int maskHeads;
    private final int tileCols;
    private final int keyTiles;
    // Per (batch, mask head, key tile): min/max of each bound over the tile's columns.
    private final int[] minA1;
    private final int[] maxA1;
    private final int[] minB1;
    private final int[] maxB1;
    private final int[] minA2;
    private final int[] maxA2;
    private final int[] minB2;
    private final int[] maxB2;

    TileClasses(AttentionShape shape, AttentionOptions o, KeyRanges keys, int tileCols) {
        this.keys = keys;
        this.seqQ = shape.seqQ();
        this.seqK = shape.seqK();
        this.heads = shape.heads();
        Span<boolean[]> denseMaskSpan = o.denseMask() == null ? null : ((CpuTensor) o.denseMask()).bools();
        this.denseMask = denseMaskSpan == null ? null : denseMaskSpan.array();
        this.denseMaskOff = denseMaskSpan == null ? 0 : denseMaskSpan.offset();
        this.denseMaskDims = o.denseMask() == null ? null : o.denseMask().shape().dims();
        this.tileCols = tileCols;
        this.keyTiles = (seqK + tileCols - 1) / tileCols;
        if (o.flashMask() == null) {
            maskHeads = 1;
            fmA1 = fmB1 = fmA2 = fmB2 = null;
            minA1 = maxA1 = minB1 = maxB1 = minA2 = maxA2 = minB2 = maxB2 = null;
            return;
        }
        boolean causal = o.causal();
        Span<int[]> rawSpan = ((CpuTensor) o.flashMask()).i32();
        int[] raw = rawSpan.array();
        int[] dims = o.flashMask().shape().dims();
        int batch = dims[0];
        maskHeads = dims[1];
        int n = dims[3];
        int columns = batch * maskHeads * seqK;
        fmA1 = new int[columns];
        fmB1 = new int[columns];
        fmA2 = new int[columns];
        fmB2 = new int[columns];
        for (int c = 0; c < columns; c++) {
            int base = rawSpan.offset() + c * n;
            int v0 = Math.min(raw[base], seqQ);
            int v1 = n > 1 ? Math.min(raw[base + 1], seqQ) : seqQ;
            // docs/design.md §4: causal [LTS] / [LTS, LTE); non-causal [LTS, UTE]: rows >= LTS or < UTE;
            // non-causal [LTS, LTE, UTS, UTE]: [LTS, LTE) ∪ [UTS, UTE).
            if (causal) {
                set(c, v0, v1, seqQ, 0);
            } else if (n == 2) {
                set(c, v0, seqQ, 0, v1);
            } else {
                set(c, v0, v1, Math.min(raw[base + 2], seqQ), Math.min(raw[base + 3], seqQ));
            }
        }
        int summaries = batch * maskHeads * keyTiles;
        minA1 = new int[summaries];
        maxA1 = new int[summaries];
        minB1 = new int[summaries];
        maxB1 = new int[summaries];
        minA2 = new int[summaries];
        maxA2 = new int[summaries];
        minB2 = new int[summaries];
        maxB2 = new int[summaries];
        for (int t = 0; t < summaries; t++) {
            int column0 = (t / keyTiles) * seqK + (t % keyTiles) * tileCols;
            int end = Math.min(column0 + tileCols, (t / keyTiles + 1) * seqK);
            minA1[t] = minOf(fmA1, column0, end);
            maxA1[t] = maxOf(fmA1, column0, end);
            minB1[t] = minOf(fmB1, column0, end);
            maxB1[t] = maxOf(fmB1, column0, end);
            minA2[t] = minOf(fmA2, column0, end);
            maxA2[t] = maxOf(fmA2, column0, end);
            minB2[t] = minOf(fmB2, column0, end);
            maxB2[t] = maxOf(fmB2, column0, end);
        }
    }

    private void set(int c, int a1, int b1, int a2, int b2) {
        boolean empty1 = a1 >= b1;
        boolean empty2 = a2 >= b2;
        fmA1[c] = empty1 ? seqQ : a1;
        fmB1[c] = empty1 ? 0 : b1;
        fmA2[c] = empty2 ? seqQ : a2;
        fmB2[c] = empty2 ? 0 : b2;
    }

    private static int minOf(int[] x, int from, int to) {
        int m = Integer.MAX_VALUE;
        for (int i = from; i < to; i++) {
            m = Math.min(m, x[i]);
        }
        return m;
    }

    private static int maxOf(int[] x, int from, int to) {
        int m = Integer.MIN_VALUE;
        for (int i = from; i < to; i++) {
            m = Math.max(m, x[i]);
        }
        return m;
    }

    /** Classifies the tile of rows {@code [i0, i0+rows)} and key tile {@code kt} of batch {@code b}, head {@code h}. */
    Tile classify(int b, int h, int i0, int rows, int kt) {
        int j0 = kt * tileCols;
        int j1 = Math.min(seqK, j0 + tileCols);
        int i1 = i0 + rows;
        if (keys.rowEnd(i1 - 1) <= j0 || keys.rowBegin(i0) >= j1) {
            return Tile.SKIP;
        }
        boolean needsMask = keys.rowBegin(i1 - 1) > j0 || keys.rowEnd(i0) < j1 || denseMask != null;
        if (fmA1 != null) {
            int t = (b * maskHeads + h / (heads / maskHeads)) * keyTiles + kt;
            if ((maxA1[t] <= i0 && minB1[t] >= i1) || (maxA2[t] <= i0 && minB2[t] >= i1)) {
                return Tile.SKIP;
            }
            boolean miss1 = minA1[t] >= i1 || maxB1[t] <= i0;
            boolean miss2 = minA2[t] >= i1 || maxB2[t] <= i0;
            needsMask |= !(miss1 && miss2);
        }
        return needsMask ? Tile.PARTIAL : Tile.FULL;
    }

    /**
     * The first column in {@code [from, to)} that some row of {@code [i0, i0+rows)} may see by the FlashMask
     * bounds, or {@code to} if none: on a partial tile this narrows the columns computed, as the window's
     * left edge does. O(columns), against O(rows·columns·D) for the tile itself.
     */
    int firstOpenColumn(int b, int h, int i0, int rows, int from, int to) {
        if (fmA1 == null) {
            return from;
        }
        int column0 = (b * maskHeads + h / (heads / maskHeads)) * seqK;
        int i1 = i0 + rows;
        for (int j = from; j < to; j++) {
            int c = column0 + j;
            if (!covers(fmA1[c], fmB1[c], fmA2[c], fmB2[c], i0, i1)) {
                return j;
            }
        }
        return to;
    }

    /** Whether the masked row ranges {@code [a1, b1) ∪ [a2, b2)} cover all of {@code [i0, i1)}. */
    private static boolean covers(int a1, int b1, int a2, int b2, int i0, int i1) {
        if (a1 <= i0 && b1 >= i1 || a2 <= i0 && b2 >= i1) {
            return true;
        }
        // Two ranges that overlap or touch can cover together.
        if (a1 <= i0 && b1 >= a2 && a2 <= b1 && b2 >= i1) {
            return true;
        }
        return a2 <= i0 && b2 >= a1 && a1 <= b2 && b1 >= i1;
    }

    /**
     * Sets the masked scores of a tile to −∞: rows {@code i0..}, columns {@code j0..j0+colsPad}, row stride
     * {@code ld}. Padding columns past Sk are always masked; the rest only on partial tiles.
     */
    void mask(float[] s, int ld, int b, int h, int i0, int rows, int j0, int colsPad, Tile tile) {
        int cols = Math.min(colsPad, seqK - j0);
        for (int r = 0; r < rows; r++) {
            int base = r * ld;
            if (cols < colsPad) {
                Arrays.fill(s, base + Math.max(cols, 0), base + colsPad, Float.NEGATIVE_INFINITY);
            }
            if (tile != Tile.PARTIAL) {
                continue;
            }
            int i = i0 + r;
            keys.maskRow(s, base, i, j0, cols);
            if (denseMask != null) {
                int src = denseMaskOff + denseIndex(denseMaskDims, b, h) + i * seqK + j0;
                for (int c = 0; c < cols; c++) {
                    if (!denseMask[src + c]) {
                        s[base + c] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
        if (tile == Tile.PARTIAL && fmA1 != null) {
            int column0 = (b * maskHeads + h / (heads / maskHeads)) * seqK + j0;
            int i1 = i0 + rows;
            for (int c = 0; c < cols; c++) {
                maskRows(s, ld, c, i0, i1, fmA1[column0 + c], fmB1[column0 + c]);
                maskRows(s, ld, c, i0, i1, fmA2[column0 + c], fmB2[column0 + c]);
            }
        }
    }

    private static void maskRows(float[] s, int ld, int c, int i0, int i1, int a, int b) {
        int from = Math.max(a, i0);
        int to = Math.min(b, i1);
        for (int i = from; i < to; i++) {
            s[(i - i0) * ld + c] = Float.NEGATIVE_INFINITY;
        }
    }

    private int denseIndex(int[] dims, int b, int h) {
        int bb = dims[0] == 1 ? 0 : b;
        int hh = dims[1] == 1 ? 0 : h;
        return (bb * dims[1] + hh) * seqQ * seqK;
    }
}
