package dev.attn4j.ports.attention;

/**
 * Attention dropout (docs/design.md §4 step 5) and the counter mapping every backend follows, so that the same
 * elements drop everywhere, bit for bit.
 *
 * <h2>Counter mapping</h2>
 * For element {@code (b, h, i, j)} of the attention probabilities (query row {@code i}, key column
 * {@code j}) with {@code H} query heads, {@code Sq} queries and {@code Sk} keys:
 * <ol>
 *   <li>{@code n = ((b·H + h)·Sq + i)·Sk + j} as an unsigned 64-bit integer;</li>
 *   <li>one Philox4x32-10 call (Salmon et al., SC'11; multipliers {@code 0xD2511F53}, {@code 0xCD9E8D57},
 *       Weyl constants {@code 0x9E3779B9}, {@code 0xBB67AE85}) with
 *       key {@code (lo32(seed), hi32(seed))} and
 *       counter {@code (lo32(n >>> 2), hi32(n >>> 2), lo32(offset), hi32(offset))};</li>
 *   <li>word {@code n & 3} of its four outputs, {@code w}, gives {@code u = (w >>> 8) · 2^-24} in [0, 1);</li>
 *   <li>the element is <em>kept</em> iff {@code u >= p}; kept probabilities are scaled by {@code 1 / (1 - p)}.</li>
 * </ol>
 * The backward pass regenerates the same bits from the same {@code (seed, offset)}. {@code lse} is always
 * that of the scores before dropout.
 *
 * <pre>{@code
 * AttentionOptions.builder().dropout(new Dropout(0.1, 42L, 0L)).build();
 * }</pre>
 *
 * @param p      probability of dropping an element, in [0, 1)
 * @param seed   Philox key
 * @param offset Philox counter offset (advance it between calls that must draw fresh bits)
 */
public record Dropout(double p, long seed, long offset) {

    /** No dropout. */
    public static final Dropout NONE = new Dropout(0.0, 0L, 0L);

    /** Validates {@code p}. */
    public Dropout {
        if (!(p >= 0.0 && p < 1.0)) {
            throw new dev.attn4j.ports.InvalidRequestException("dropout.p", "a probability in [0, 1)", p);
        }
    }

    /** {@return whether any element may be dropped} */
    public boolean enabled() {
        return p > 0.0;
    }
}
