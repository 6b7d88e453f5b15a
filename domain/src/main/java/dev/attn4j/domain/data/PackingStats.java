package dev.attn4j.domain.data;

/**
 * What a packing produced. The pad ratio is the share of padding among all the tokens of the rows
 * ({@code rows · maxLength}), the figure PaddleNLP quotes for zero padding.
 *
 * <pre>{@code
 * PackingStats s = Packer.pack(examples, options).stats();
 * System.out.printf("%d rows, pad ratio %.1f%%%n", s.rows(), 100 * s.padRatio());
 * }</pre>
 *
 * @param examples       examples given
 * @param packed         examples placed in rows (given minus skipped)
 * @param truncated      examples cut to {@code maxLength}
 * @param truncatedTokens tokens cut off by truncation
 * @param skipped        examples left out for being longer than {@code maxLength}
 * @param rows           rows produced
 * @param maxLength      tokens per row
 * @param tokens         real (non-padding) tokens in the rows
 * @param trainedTokens  positions with a label other than −100 in the rows
 */
public record PackingStats(int examples, int packed, int truncated, long truncatedTokens, int skipped, int rows,
                           int maxLength, long tokens, long trainedTokens) {

    /** {@return all token slots of the rows, {@code rows · maxLength}} */
    public long slots() {
        return (long) rows * maxLength;
    }

    /** {@return padding slots, {@code slots() - tokens}} */
    public long padTokens() {
        return slots() - tokens;
    }

    /** {@return the share of padding}: {@code padTokens / slots}, 0 when there is no row. */
    public double padRatio() {
        return rows == 0 ? 0 : (double) padTokens() / slots();
    }

    /** {@return mean examples per row} */
    public double examplesPerRow() {
        return rows == 0 ? 0 : (double) packed / rows;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "%d examples -> %d rows of %d (%.2f per row), pad ratio %.2f%%, %d truncated (%d tokens), %d skipped",
                examples, rows, maxLength, examplesPerRow(), 100 * padRatio(), truncated, truncatedTokens, skipped);
    }
}
