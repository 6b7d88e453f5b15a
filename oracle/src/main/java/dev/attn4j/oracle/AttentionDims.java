package dev.attn4j.oracle;

/**
 * The sizes of an attention problem and the row-major index arithmetic of docs/design.md §3:
 * {@code q, o [B, Sq, H, D]}, {@code k, v [B, Sk, Hkv, D]}, {@code lse [B, H, Sq]}.
 *
 * <pre>{@code
 * AttentionDims d = new AttentionDims(1, 5, 7, 4, 2, 16);
 * int at = d.q(0, 3, 1, 0);   // first feature of query row 3, head 1
 * }</pre>
 *
 * @param batch   B
 * @param seqQ    Sq
 * @param seqK    Sk
 * @param heads   H
 * @param kvHeads Hkv, dividing H
 * @param headDim D
 */
public record AttentionDims(int batch, int seqQ, int seqK, int heads, int kvHeads, int headDim) {

    /** Checks that every size is positive and {@code H % Hkv == 0}. */
    public AttentionDims {
        if (batch < 1 || seqQ < 1 || seqK < 1 || heads < 1 || kvHeads < 1 || headDim < 1) {
            throw new IllegalArgumentException("sizes must be >= 1: B=" + batch + " Sq=" + seqQ + " Sk=" + seqK
                    + " H=" + heads + " Hkv=" + kvHeads + " D=" + headDim);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("H % Hkv must be 0, got H=" + heads + " Hkv=" + kvHeads);
        }
    }

    /** {@return {@code Sk - Sq}, the bottom-right alignment offset} */
    public int offset() {
        return seqK - seqQ;
    }

    /**
     * {@return the KV head query head {@code h} reads}
     *
     * @param h head index
     */
    public int kvHeadOf(int h) {
        return h / (heads / kvHeads);
    }

    /** {@return element count of {@code q}, {@code o}, {@code dO}} */
    public int querySize() {
        return batch * seqQ * heads * headDim;
    }

    /** {@return element count of {@code k}, {@code v}} */
    public int keySize() {
        return batch * seqK * kvHeads * headDim;
    }

    /** {@return element count of {@code lse}} */
    public int lseSize() {
        return batch * heads * seqQ;
    }

    /** {@return width of one bias-table row: {@code Sq + Sk - 1}} */
    public int tableWidth() {
        return seqQ + seqK - 1;
    }

    /**
     * {@return index of {@code q[b, i, h, d]}}
     *
     * @param b batch index
     * @param i query row index
     * @param h head index
     * @param d D, the head dimension
     */
    public int q(int b, int i, int h, int d) {
        return ((b * seqQ + i) * heads + h) * headDim + d;
    }

    /**
     * {@return index of {@code k[b, j, g, d]} (also {@code v})}
     *
     * @param b batch index
     * @param j key column index
     * @param g group member index
     * @param d D, the head dimension
     */
    public int k(int b, int j, int g, int d) {
        return ((b * seqK + j) * kvHeads + g) * headDim + d;
    }

    /**
     * {@return index of {@code lse[b, h, i]}}
     *
     * @param b batch index
     * @param h head index
     * @param i query row index
     */
    public int lse(int b, int h, int i) {
        return (b * heads + h) * seqQ + i;
    }

    /**
     * {@return column of the relative table for query row {@code i} and key {@code j}: {@code j - (i + off) + Sk - 1}}
     *
     * @param i query row index
     * @param j key column index
     */
    public int tableColumn(int i, int j) {
        return j - (i + offset()) + seqK - 1;
    }
}
