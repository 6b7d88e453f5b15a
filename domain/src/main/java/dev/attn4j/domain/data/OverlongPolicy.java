package dev.attn4j.domain.data;

/**
 * What {@link Packer} does with an example longer than {@code maxLength}; either way it is counted
 * ({@link PackingStats#truncated()}, {@link PackingStats#skipped()}).
 *
 * <pre>{@code
 * PackingOptions o = PackingOptions.of(Packing.ZERO_PADDING, 2048).overlong(OverlongPolicy.SKIP);
 * }</pre>
 */
public enum OverlongPolicy {
    /** Keep its first {@code maxLength} tokens and labels (its eos is then lost). */
    TRUNCATE,
    /** Leave it out, as PaddleNLP's zero-padding datasets do. */
    SKIP
}
