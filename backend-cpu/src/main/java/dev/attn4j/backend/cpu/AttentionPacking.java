package dev.attn4j.backend.cpu;

import java.util.Arrays;

/**
 * Copies of q, k, v, dO rows into the contiguous, zero-padded buffers the tile products read
 * ({@link TileMath#gemm} wants its B operand's rows a multiple of {@link TileMath#LANES} long). Each works on either
 * layout through {@link AttentionProblem#queryRow} and {@link AttentionProblem#keyRow}; the kernels never copy one
 * layout into the other.
 */
final class AttentionPacking {
    private AttentionPacking() {
    }

    /** Rows {@code i0..i0+rows} of query-side head {@code h} (q or dO layout), scaled, into {@code dst[rows][dPad]}. */
    static void queryRows(AttentionProblem p, float[] src, int srcOff, int b, int h, int i0, int rows, float factor,
                          float[] dst, int dstOff) {
        rows(p, src, srcOff + p.queryRow(b, i0, h), p.qStride, rows, factor, dst, dstOff);
    }

    /** All rows of KV head {@code kvHead} of a k or v array into {@code dst[Sk][dPad]}. */
    static void keyRows(AttentionProblem p, float[] src, int srcOff, int b, int kvHead, float[] dst) {
        rows(p, src, srcOff + p.keyRow(b, 0, kvHead), p.kStride, p.seqK, 1f, dst, 0);
    }

    /** Rows {@code j0..j0+cols} of KV head {@code kvHead} of a k or v array, scaled, into {@code dst[cols][dPad]}. */
    static void keyTileRows(AttentionProblem p, float[] src, int srcOff, int b, int kvHead, int j0, int cols,
                            float factor, float[] dst) {
        rows(p, src, srcOff + p.keyRow(b, j0, kvHead), p.kStride, cols, factor, dst, 0);
    }

    /** {@code rows} rows of D floats, {@code stride} apart from {@code first}, into {@code dst[rows][dPad]}. */
    private static void rows(AttentionProblem p, float[] src, int first, int stride, int rows, float factor,
                             float[] dst, int dstOff) {
        int d = p.headDim;
        int dp = p.dPad;
        for (int r = 0; r < rows; r++) {
            int from = first + r * stride;
            int to = dstOff + r * dp;
            for (int x = 0; x < d; x++) {
                dst[to + x] = src[from + x] * factor;
            }
            Arrays.fill(dst, to + d, to + dp, 0f);
        }
    }

    /**
     * K of one KV head times {@code factor}, transposed key tile by key tile into {@code [keyTiles][dPad][BC]} with
     * zero padding: the Kᵀ block of one tile is contiguous (32 KiB at D = 64), so it stays in L1 while the tile's
     * query rows stream past it. (One {@code [dPad][seqKPad]} matrix would put the block's rows {@code 4·Sk} bytes
     * apart; at Sk = 2048 that is 8 KiB, and all 64 rows of a column group fall into the same L1 set.) Blocks of
     * {@link TileMath#LANES} keys keep both the reads (a few rows) and the writes (one line per feature) within a
     * few cache lines.
     */
    static void transposed(AttentionProblem p, float[] src, int srcOff, int b, int kvHead, float factor, float[] dst) {
        int d = p.headDim;
        int dp = p.dPad;
        int bc = p.bc;
        int seqK = p.seqK;
        int tileSize = dp * bc;
        // Only the padding needs clearing (the rest is written below): features past D, keys past Sk.
        for (int t = 0; t < p.keyTiles; t++) {
            Arrays.fill(dst, t * tileSize + d * bc, (t + 1) * tileSize, 0f);
        }
        int last = seqK - (p.keyTiles - 1) * bc;
        if (last < bc) {
            int at = (p.keyTiles - 1) * tileSize;
            for (int x = 0; x < d; x++) {
                Arrays.fill(dst, at + x * bc + last, at + (x + 1) * bc, 0f);
            }
        }
        int stride = p.kStride;
        int base = srcOff + p.keyRow(b, 0, kvHead);
        for (int j0 = 0; j0 < seqK; j0 += TileMath.LANES) {
            int j1 = Math.min(seqK, j0 + TileMath.LANES);
            int tile = (j0 / bc) * tileSize - j0 / bc * bc;
            for (int x = 0; x < d; x++) {
                int to = tile + x * bc;
                for (int j = j0; j < j1; j++) {
                    dst[to + j] = src[base + j * stride + x] * factor;
                }
            }
        }
    }

    /**
     * The backward's key tile of {@code cols} keys from {@code j0}: K as rows ({@code k[BC][dPad]}), scaled Kᵀ and
     * Vᵀ ({@code [dPad][BC]}).
     */
    static void keyTile(AttentionProblem p, int b, int kvHead, int j0, int cols, float[] k, float[] kt, float[] vt) {
        int d = p.headDim;
        int dp = p.dPad;
        int bc = p.bc;
        if (cols < bc || d < dp) {
            // Only a last, short tile or padded features leave parts of the buffers unwritten.
            Arrays.fill(k, 0f);
            Arrays.fill(kt, 0f);
            Arrays.fill(vt, 0f);
        }
        int stride = p.kStride;
        int base = p.keyRow(b, j0, kvHead);
        int kBase = p.kOff + base;
        int vBase = p.vOff + base;
        for (int c = 0; c < cols; c++) {
            System.arraycopy(p.k, kBase + c * stride, k, c * dp, d);
        }
        // Transposed copies in blocks of LANES keys, so reads and writes each stay within a few lines;
        // Kᵀ is read from the row copy just made, which is in L1.
        for (int c0 = 0; c0 < cols; c0 += TileMath.LANES) {
            int c1 = Math.min(cols, c0 + TileMath.LANES);
            for (int x = 0; x < d; x++) {
                int to = x * bc;
                for (int c = c0; c < c1; c++) {
                    kt[to + c] = k[c * dp + x] * p.scale;
                    vt[to + c] = p.v[vBase + c * stride + x];
                }
            }
        }
    }
}
