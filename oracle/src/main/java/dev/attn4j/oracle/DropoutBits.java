package dev.attn4j.oracle;

import dev.attn4j.ports.attention.Dropout;

/**
 * The keep/drop decision of every attention probability, by the counter mapping written in the Javadoc of
 * {@link Dropout} ({@link PhiloxStream}): element {@code n = ((b·H + h)·Sq + i)·Sk + j} draws
 * {@code u = PhiloxStream.uniform(seed, offset, n)} and is kept iff {@code u >= p}.
 *
 * <pre>{@code
 * boolean kept = DropoutBits.kept(dropout, dims, b, h, i, j);
 * }</pre>
 */
public final class DropoutBits {
    private DropoutBits() {
    }

    /**
     * {@return the uniform in [0, 1) that element {@code (b, h, i, j)} draws}
     *
     * @param dropout the dropout
     * @param d D, the head dimension
     * @param b batch index
     * @param h head index
     * @param i query row index
     * @param j key column index
     */
    public static double uniform(Dropout dropout, AttentionDims d, int b, int h, int i, int j) {
        long n = (((long) b * d.heads() + h) * d.seqQ() + i) * d.seqK() + j;
        return PhiloxStream.uniform(dropout.seed(), dropout.offset(), n);
    }

    /**
     * {@return whether element {@code (b, h, i, j)} is kept (always, without dropout)}
     *
     * @param dropout the dropout
     * @param d D, the head dimension
     * @param b batch index
     * @param h head index
     * @param i query row index
     * @param j key column index
     */
    public static boolean kept(Dropout dropout, AttentionDims d, int b, int h, int i, int j) {
        return !dropout.enabled() || uniform(dropout, d, b, h, i, j) >= dropout.p();
    }
}
