package dev.attn4j.oracle;

/**
 * A dense boolean mask {@code [B|1, H|1, Sq, Sk]}, {@code true} = may attend; a dimension of 1 broadcasts.
 *
 * <pre>{@code
 * new DenseMaskFlags(batch, 1, allowed)   // one mask per batch row, shared by the heads
 * }</pre>
 *
 * @param batches 1 or B
 * @param heads   1 or H
 * @param allowed row-major flags (not copied)
 */
public record DenseMaskFlags(int batches, int heads, boolean[] allowed) {

    /**
     * {@return whether element {@code (b, h, i, j)} may attend}
     *
     * @param d D, the head dimension
     * @param b batch index
     * @param h head index
     * @param i query row index
     * @param j key column index
     */
    public boolean allows(AttentionDims d, int b, int h, int i, int j) {
        return allowed[DenseBias.index(d, batches, this.heads, b, h, i, j)];
    }
}
