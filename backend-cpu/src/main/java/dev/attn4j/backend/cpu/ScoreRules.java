package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Arrays;

/**
 * Everything between {@code S = scale·Q·Kᵀ} and the softmax, for one call: softcap, position biases and
 * masks, in the order of docs/design.md §4 (steps 2–4), plus the tile-level decisions that let the kernels skip
 * work: which key columns a query tile can see at all (causal, window), and whether a tile is fully
 * masked, unmasked, or needs element-wise masking (FlashMask's per-tile min/max test).
 *
 * <p>Masks are O(S): FlashMask bounds are summarised per key tile ({@code O(Sk/BC)} per mask head); only
 * the dense escape hatches are O(S²), and they are the caller's tensors.
 */
final class ScoreRules {
    /** How much masking a tile needs. */
    enum Tile { SKIP, FULL, PARTIAL }

    private final int seqQ;
    private final int seqK;
    private final int heads;
    private final int offset;
    private final boolean causal;
    private final int left;
    private final int right;
    final float softcap;
    // The bias and mask inputs may be views: each array comes with the offset of its tensor's element 0.
    private final float[] alibi;
    private final int alibiOff;
    private final boolean alibiPerBatch;
    private final float[] biasTable;
    private final int tableOff;
    private final int tableWidth;
    private final float[] denseBias;
    private final int denseBiasOff;
    private final int[] denseBiasDims;
    private final boolean[] denseMask;
    private final int denseMaskOff;
    private final int[] denseMaskDims;
    final double dropoutP;
    private final long seed;
    private final long dropOffset;
    private final float keepScale;

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

    ScoreRules(AttentionShape shape, AttentionOptions o, int tileCols) {
        this.seqQ = shape.seqQ();
        this.seqK = shape.seqK();
        this.heads = shape.heads();
        this.offset = shape.offset();
        this.causal = o.causal();
        this.left = o.windowLeft();
        this.right = o.windowRight();
        this.softcap = (float) o.softcap();
        Span<float[]> alibiSpan = f32(o.alibiSlopes());
        this.alibi = alibiSpan == null ? null : alibiSpan.array();
        this.alibiOff = alibiSpan == null ? 0 : alibiSpan.offset();
        this.alibiPerBatch = o.alibiSlopes() != null && o.alibiSlopes().shape().rank() == 2;
        Span<float[]> tableSpan = f32(o.biasTable());
        this.biasTable = tableSpan == null ? null : tableSpan.array();
        this.tableOff = tableSpan == null ? 0 : tableSpan.offset();
        this.tableWidth = seqQ + seqK - 1;
        Span<float[]> denseBiasSpan = f32(o.denseBias());
        this.denseBias = denseBiasSpan == null ? null : denseBiasSpan.array();
        this.denseBiasOff = denseBiasSpan == null ? 0 : denseBiasSpan.offset();
        this.denseBiasDims = o.denseBias() == null ? null : o.denseBias().shape().dims();
        Span<boolean[]> denseMaskSpan = o.denseMask() == null ? null : ((CpuTensor) o.denseMask()).bools();
        this.denseMask = denseMaskSpan == null ? null : denseMaskSpan.array();
        this.denseMaskOff = denseMaskSpan == null ? 0 : denseMaskSpan.offset();
        this.denseMaskDims = o.denseMask() == null ? null : o.denseMask().shape().dims();
        this.dropoutP = o.dropout().p();
        this.seed = o.dropout().seed();
        this.dropOffset = o.dropout().offset();
        this.keepScale = (float) (1.0 / (1.0 - dropoutP));
        this.tileCols = tileCols;
        this.keyTiles = (seqK + tileCols - 1) / tileCols;
        if (o.flashMask() == null) {
            maskHeads = 1;
            fmA1 = fmB1 = fmA2 = fmB2 = null;
            minA1 = maxA1 = minB1 = maxB1 = minA2 = maxA2 = minB2 = maxB2 = null;
            return;
        }
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

    private static Span<float[]> f32(DeviceTensor t) {
        return t == null ? null : ((CpuTensor) t).f32();
    }

    boolean hasSoftcap() {
        return softcap > 0f;
    }

    boolean hasDropout() {
        return dropoutP > 0.0;
    }

    /*
     * Window arithmetic is done in long: i + off - left and j0 - off - right overflow int for windows near
     * Integer.MAX_VALUE (the request records store such windows as -1, but these rules must be right for any
     * options they are given).
     */

    /** First key column row {@code i} may see by causal/window rules (other masks come per element). */
    int rowBegin(int i) {
        return left >= 0 ? (int) Math.max(0, Math.min(seqK, (long) i + offset - left)) : 0;
    }

    /** One past the last key column row {@code i} may see by causal/window rules. */
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

    /** The query rows that may see any of key columns {@code [j0, j1)}: {@code [first, end)}. */
    int firstRow(int j0) {
        int reach = causal ? (right >= 0 ? Math.min(right, 0) : 0) : right;
        return reach < 0 ? 0 : (int) Math.max(0, Math.min(seqQ, (long) j0 - offset - reach));
    }

    int endRow(int j1) {
        return left < 0 ? seqQ : (int) Math.max(0, Math.min(seqQ, (long) j1 - 1 + left - offset + 1));
    }

    /** Classifies the tile of rows {@code [i0, i0+rows)} and key tile {@code kt} of batch {@code b}, head {@code h}. */
    Tile classify(int b, int h, int i0, int rows, int kt) {
        int j0 = kt * tileCols;
        int j1 = Math.min(seqK, j0 + tileCols);
        int i1 = i0 + rows;
        if (rowEnd(i1 - 1) <= j0 || rowBegin(i0) >= j1) {
            return Tile.SKIP;
        }
        boolean needsMask = rowBegin(i1 - 1) > j0 || rowEnd(i0) < j1 || denseMask != null;
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
     * Turns raw scores {@code s} (rows {@code i0..}, columns {@code j0..j0+colsPad}, row stride {@code ld}) into
     * masked, biased, capped scores. With a softcap, {@code tanhOut} receives {@code tanh(s/c)} for the
     * backward's chain rule (may be {@code null} in forward).
     */
    void apply(float[] s, int ld, int b, int h, int i0, int rows, int j0, int colsPad, Tile tile, float[] tanhOut) {
        int cols = Math.min(colsPad, seqK - j0);
        if (softcap > 0f) {
            float inv = 1f / softcap;
            for (int r = 0; r < rows; r++) {
                int base = r * ld;
                for (int c = 0; c < cols; c++) {
                    float t = tanh(s[base + c] * inv);
                    if (tanhOut != null) {
                        tanhOut[base + c] = t;
                    }
                    s[base + c] = softcap * t;
                }
            }
        }
        if (alibi != null) {
            float slope = alibi[alibiOff + (alibiPerBatch ? b * heads + h : h)];
            if (slope != 0f) {
                for (int r = 0; r < rows; r++) {
                    int base = r * ld;
                    int diag = i0 + r + offset;
                    for (int c = 0; c < cols; c++) {
                        s[base + c] -= slope * Math.abs(diag - (j0 + c));
                    }
                }
            }
        }
        if (biasTable != null) {
            for (int r = 0; r < rows; r++) {
                int base = r * ld;
                int t = tableOff + h * tableWidth + j0 - (i0 + r + offset) + seqK - 1;
                for (int c = 0; c < cols; c++) {
                    s[base + c] += biasTable[t + c];
                }
            }
        }
        if (denseBias != null) {
            int at = denseBiasOff + denseIndex(denseBiasDims, b, h);
            for (int r = 0; r < rows; r++) {
                int src = at + (i0 + r) * seqK + j0;
                int base = r * ld;
                for (int c = 0; c < cols; c++) {
                    s[base + c] += denseBias[src + c];
                }
            }
        }
        // Masks. Padding columns past Sk are always masked; the rest only on partial tiles.
        for (int r = 0; r < rows; r++) {
            int base = r * ld;
            if (cols < colsPad) {
                Arrays.fill(s, base + Math.max(cols, 0), base + colsPad, Float.NEGATIVE_INFINITY);
            }
            if (tile != Tile.PARTIAL) {
                continue;
            }
            int i = i0 + r;
            int begin = rowBegin(i) - j0;
            int end = rowEnd(i) - j0;
            if (begin > 0) {
                Arrays.fill(s, base, base + Math.min(begin, cols), Float.NEGATIVE_INFINITY);
            }
            if (end < cols) {
                Arrays.fill(s, base + Math.max(end, 0), base + cols, Float.NEGATIVE_INFINITY);
            }
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

    /**
     * Multiplies row {@code r} of probabilities by the dropout keep mask (0 or {@code 1/(1-p)}) of
     * element {@code (b, h, i0 + r, j0 + c)}.
     */
    void dropRow(Philox philox, float[] p, int base, int b, int h, int i, int j0, int cols) {
        long n = (((long) b * heads + h) * seqQ + i) * seqK + j0;
        for (int c = 0; c < cols; c++) {
            p[base + c] = philox.keep(n + c) ? p[base + c] * keepScale : 0f;
        }
    }

    /**
     * Writes the keep factors (0 or {@code 1/(1-p)}) of row {@code i}, columns {@code j0..j0+cols}, into
     * {@code keep[base..]}, and 0 for the padding up to {@code colsPad}.
     */
    void keepFactors(Philox philox, float[] keep, int base, int b, int h, int i, int j0, int cols, int colsPad) {
        long n = (((long) b * heads + h) * seqQ + i) * seqK + j0;
        for (int c = 0; c < cols; c++) {
            keep[base + c] = philox.keep(n + c) ? keepScale : 0f;
        }
        Arrays.fill(keep, base + cols, base + colsPad, 0f);
    }

    /** A dropout generator for one worker. */
    Philox philox() {
        return new Philox(seed, dropOffset, dropoutP);
    }

    /** Where row {@code i}, column {@code j0} of head {@code h} falls in the bias table. */
    int tableIndex(int h, int i, int j0) {
        return h * tableWidth + j0 - (i + offset) + seqK - 1;
    }

    int tableWidth() {
        return tableWidth;
    }

    /** {@code tanh} from {@link Exp}, so that it is as reproducible as the softmax: {@code 1 − 2/(e^{2x} + 1)}. */
    static float tanh(float x) {
        if (x > 9f) {
            return 1f;
        }
        if (x < -9f) {
            return -1f;
        }
        if (Math.abs(x) < 0.0625f) {
            // Near 0 the quotient form loses relative precision; the odd series is exact to fp32 here.
            float x2 = x * x;
            return x * (1f - x2 * (1f / 3 - x2 * (2f / 15 - x2 * (17f / 315))));
        }
        return 1f - 2f / (Exp.exp(2f * x) + 1f);
    }
}
