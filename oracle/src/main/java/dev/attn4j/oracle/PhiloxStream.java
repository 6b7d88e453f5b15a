package dev.attn4j.oracle;

/**
 * The one counter mapping of attn4j's Philox stream, written from {@link dev.attn4j.ports.attention.Dropout}'s and
 * {@link dev.attn4j.ports.random.UniformRequest}'s Javadoc: element {@code n} takes word {@code n & 3} of
 * Philox4x32-10 with key {@code (lo32(seed), hi32(seed))} and counter
 * {@code (lo32(n >>> 2), hi32(n >>> 2), lo32(offset), hi32(offset))}; its uniform is {@code (w >>> 8)·2⁻²⁴}, in
 * {@code [0, 1)} and exact in binary32.
 *
 * <pre>{@code
 * double u = PhiloxStream.uniform(seed, offset, n);   // dropout keeps element n iff u >= p
 * }</pre>
 */
public final class PhiloxStream {
    private static final double TWO_POW_MINUS_24 = 0x1.0p-24;

    private PhiloxStream() {
    }

    /**
     * {@return the 32-bit word element {@code n} draws}
     *
     * @param seed   the key
     * @param offset the counter's upper half
     * @param n      the element
     */
    public static int word(long seed, long offset, long n) {
        long block = n >>> 2;
        int[] counter = {(int) block, (int) (block >>> 32), (int) offset, (int) (offset >>> 32)};
        int[] key = {(int) seed, (int) (seed >>> 32)};
        return Philox4x32.generate(counter, key)[(int) (n & 3)];
    }

    /**
     * {@return the uniform in {@code [0, 1)} element {@code n} draws: its word's top 24 bits times 2⁻²⁴}
     *
     * @param seed   the key
     * @param offset the counter's upper half
     * @param n      the element
     */
    public static double uniform(long seed, long offset, long n) {
        return (word(seed, offset, n) >>> 8) * TWO_POW_MINUS_24;
    }
}
