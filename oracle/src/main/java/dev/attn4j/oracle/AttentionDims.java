package dev.attn4j.oracle;

/**
 * The sizes of an attention problem and the row-major index arithmetic of DESIGN §3:
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

    /** {@code Sk - Sq}, the bottom-right alignment offset. */
    public int offset() {
        return seqK - seqQ;
    }

    /** The KV head query head {@code h} reads. */
    public int kvHeadOf(int h) {
        return h / (heads / kvHeads);
    }

    /** Element count of {@code q}, {@code o}, {@code dO}. */
    public int querySize() {
        return batch * seqQ * heads * headDim;
    }

    /** Element count of {@code k}, {@code v}. */
    public int keySize() {
        return batch * seqK * kvHeads * headDim;
    }

    /** Element count of {@code lse}. */
    public int lseSize() {
        return batch * heads * seqQ;
    }

    /** Width of one bias-table row: {@code Sq + Sk - 1}. */
    public int tableWidth() {
        return seqQ + seqK - 1;
    }

    /** Index of {@code q[b, i, h, d]}. */
    public int q(int b, int i, int h, int d) {
        return ((b * seqQ + i) * heads + h) * headDim + d;
    }

    /** Index of {@code k[b, j, g, d]} (also {@code v}). */
    public int k(int b, int j, int g, int d) {
        return ((b * seqK + j) * kvHeads + g) * headDim + d;
    }

    /** Index of {@code lse[b, h, i]}. */
    public int lse(int b, int h, int i) {
        return (b * heads + h) * seqQ + i;
    }

    /** Column of the relative table for query row {@code i} and key {@code j}: {@code j - (i + off) + Sk - 1}. */
    public int tableColumn(int i, int j) {
        return j - (i + offset()) + seqK - 1;
    }
}
