package dev.attn4j.domain.data;

/**
 * How examples are laid into rows of {@code maxLength} tokens ({@link Packer}).
 *
 * <pre>{@code
 * PackingOptions options = PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 2048);
 * }</pre>
 */
public enum Packing {
    /** One example per row, padded to {@code maxLength}. */
    NONE,
    /**
     * PaddleNLP's {@code zero_padding}: next-fit, examples in order, a new row when the next one does not
     * fit in the current one.
     */
    ZERO_PADDING,
    /**
     * PaddleNLP's {@code greedy_zero_padding}: in groups of 500 (configurable) examples, each example in
     * order into the open row with the most room left, a new row when none has room.
     */
    GREEDY_ZERO_PADDING
}
