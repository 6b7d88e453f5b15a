package dev.attn4j.domain.data;

import dev.attn4j.ports.InvalidRequestException;

/**
 * How {@link Packer} builds rows.
 *
 * <pre>{@code
 * PackingOptions o = PackingOptions.of(Packing.GREEDY_ZERO_PADDING, 4096)
 *         .overlong(OverlongPolicy.SKIP)
 *         .padId(tokenizer);
 * }</pre>
 *
 * @param packing   none, next-fit or grouped greedy
 * @param maxLength L, the tokens of every row
 * @param overlong  what to do with an example longer than L
 * @param groupSize examples per greedy group (PaddleNLP's buffer of 500); only for greedy
 * @param padId     the id written at padding positions (never attended to nor trained on; it only has to
 *                  be a valid id for the embedding lookup)
 * @param sortGroups greedy only, and <em>not</em> PaddleNLP's rule: place each group's examples longest
 *                  first (ties in file order) instead of in file order, which packs much tighter (under 1%
 *                  padding where the plain rule leaves 5–8%, see {@code PadRatioReport}); off by default
 */
public record PackingOptions(Packing packing, int maxLength, OverlongPolicy overlong, int groupSize, int padId,
                             boolean sortGroups) {

    /** PaddleNLP's group size for greedy zero padding. */
    public static final int PADDLE_GROUP_SIZE = 500;

    /** Validates the values. */
    public PackingOptions {
        InvalidRequestException.check(packing != null, "packing", "NONE, ZERO_PADDING or GREEDY_ZERO_PADDING", "null");
        InvalidRequestException.check(maxLength >= 1, "maxLength", ">= 1", maxLength);
        InvalidRequestException.check(overlong != null, "overlong", "TRUNCATE or SKIP", "null");
        InvalidRequestException.check(groupSize >= 1, "groupSize", ">= 1", groupSize);
        InvalidRequestException.check(padId >= 0, "padId", "an id >= 0", padId);
    }

    /**
     * Options with PaddleNLP's greedy rule as it is ({@code sortGroups} off).
     *
     * @param packing none, next-fit or grouped greedy
     * @param maxLength L, the tokens of every row
     * @param overlong what to do with an example longer than L
     * @param groupSize examples per greedy group
     * @param padId the id written at padding positions
     */
    public PackingOptions(Packing packing, int maxLength, OverlongPolicy overlong, int groupSize, int padId) {
        this(packing, maxLength, overlong, groupSize, padId, false);
    }

    /**
     * {@code packing} into rows of {@code maxLength}, truncating long examples, groups of 500 in file
     * order, pad id 0.
     *
     * @param packing none, next-fit or grouped greedy
     * @param maxLength L, the tokens of every row
     * @return the options
     */
    public static PackingOptions of(Packing packing, int maxLength) {
        return new PackingOptions(packing, maxLength, OverlongPolicy.TRUNCATE, PADDLE_GROUP_SIZE, 0, false);
    }

    /**
     * These options with the overlong policy.
     *
     * @param value truncate or skip an example longer than L
     * @return a copy with that value
     */
    public PackingOptions overlong(OverlongPolicy value) {
        return new PackingOptions(packing, maxLength, value, groupSize, padId, sortGroups);
    }

    /**
     * These options with the greedy group size.
     *
     * @param value examples per greedy group, {@code >= 1}
     * @return a copy with that value
     */
    public PackingOptions groupSize(int value) {
        return new PackingOptions(packing, maxLength, overlong, value, padId, sortGroups);
    }

    /**
     * These options with the pad id.
     *
     * @param value the id at padding positions, {@code >= 0}
     * @return a copy with that value
     */
    public PackingOptions padId(int value) {
        return new PackingOptions(packing, maxLength, overlong, groupSize, value, sortGroups);
    }

    /**
     * These options with greedy groups placed longest first (not PaddleNLP's rule) or in file order.
     *
     * @param value {@code true} for longest first, {@code false} for file order (PaddleNLP's rule)
     * @return a copy with that value
     */
    public PackingOptions sortGroups(boolean value) {
        return new PackingOptions(packing, maxLength, overlong, groupSize, padId, value);
    }

    /**
     * These options with the tokenizer's pad id, else its eos, else 0.
     *
     * @param tokenizer the tokenizer of the examples
     * @return a copy with that pad id
     */
    public PackingOptions padId(Tokenizer tokenizer) {
        InvalidRequestException.check(tokenizer != null, "tokenizer", "a tokenizer", "null");
        return padId(tokenizer.pad().orElse(tokenizer.eos().orElse(0)));
    }
}
