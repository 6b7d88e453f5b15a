package dev.attn4j.oracle;

/**
 * A dense additive bias {@code [B|1, H|1, Sq, Sk]}: {@code batches} is 1 or B, {@code heads} 1 or H; a
 * dimension of 1 broadcasts.
 *
 * <pre>{@code
 * new DenseBias(1, heads, values)   // one bias per head, shared by the batch
 * }</pre>
 *
 * @param batches 1 or B
 * @param heads   1 or H
 * @param values  row-major values (not copied)
 */
public record DenseBias(int batches, int heads, double[] values) {

    /**
     * {@return the bias of element {@code (b, h, i, j)}}
     *
     * @param d D, the head dimension
     * @param b batch index
     * @param h head index
     * @param i query row index
     * @param j key column index
     */
    public double at(AttentionDims d, int b, int h, int i, int j) {
        return values[index(d, batches, this.heads, b, h, i, j)];
    }

    static int index(AttentionDims d, int batches, int heads, int b, int h, int i, int j) {
        int bb = batches == 1 ? 0 : b;
        int hh = heads == 1 ? 0 : h;
        return ((bb * heads + hh) * d.seqQ() + i) * d.seqK() + j;
    }
}
