package dev.attn4j.oracle;

/**
 * The Philox4x32-10 counter-based generator (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy
 * as 1, 2, 3", SC'11), written from the paper's definition: ten rounds of two 32×32→64 multiplies whose
 * halves are mixed with the other counter words and the key, the key bumped by the Weyl constants between
 * rounds. Pinned by the Random123 known-answer vectors in the tests.
 *
 * <pre>{@code
 * int[] out = Philox4x32.generate(new int[] {c0, c1, c2, c3}, new int[] {k0, k1});
 * }</pre>
 */
public final class Philox4x32 {
    private static final long M0 = 0xD2511F53L;
    private static final long M1 = 0xCD9E8D57L;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final int ROUNDS = 10;

    private Philox4x32() {
    }

    /**
     * {@return the four output words for a 128-bit counter and a 64-bit key}
     *
     * @param counter the counter
     * @param key the option's key
     */
    public static int[] generate(int[] counter, int[] key) {
        if (counter.length != 4 || key.length != 2) {
            throw new IllegalArgumentException("Philox4x32 needs 4 counter words and 2 key words, got "
                    + counter.length + " and " + key.length);
        }
        int c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
        int k0 = key[0], k1 = key[1];
        for (int r = 0; r < ROUNDS; r++) {
            if (r > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = M0 * Integer.toUnsignedLong(c0);
            long p1 = M1 * Integer.toUnsignedLong(c2);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        return new int[] {c0, c1, c2, c3};
    }
}
