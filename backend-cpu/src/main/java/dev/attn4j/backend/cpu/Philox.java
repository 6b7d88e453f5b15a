package dev.attn4j.backend.cpu;

/**
 * Philox4x32-10 (Salmon et al., SC'11) and the dropout counter mapping written down in
 * {@code dev.attn4j.ports.attention.Dropout}: element {@code n = ((b·H + h)·Sq + i)·Sk + j} reads word
 * {@code n & 3} of the block for counter {@code (lo(n>>>2), hi(n>>>2), lo(offset), hi(offset))} under key
 * {@code (lo(seed), hi(seed))}, and is kept iff {@code (w >>> 8)·2⁻²⁴ ≥ p}.
 *
 * <p>One instance per worker: it caches the last block, since a tile row reads consecutive elements.
 */
final class Philox {
    private static final long M0 = 0xD2511F53L;
    private static final long M1 = 0xCD9E8D57L;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;

    private final int key0;
    private final int key1;
    private final int off0;
    private final int off1;
    private final int threshold;
    private long cachedBlock = -1;
    private final int[] words = new int[4];

    /** @param p drop probability; an element is kept iff its 24-bit uniform is at least {@code p·2²⁴}. */
    Philox(long seed, long offset, double p) {
        this.key0 = (int) seed;
        this.key1 = (int) (seed >>> 32);
        this.off0 = (int) offset;
        this.off1 = (int) (offset >>> 32);
        // u = w24·2⁻²⁴ ≥ p  ⟺  w24 ≥ ceil(p·2²⁴); exact because p·2²⁴ is computed in double.
        this.threshold = (int) Math.ceil(p * (1 << 24));
    }

    /** Whether element {@code n} is kept. */
    boolean keep(long n) {
        long block = n >>> 2;
        if (block != cachedBlock) {
            block(block, words);
            cachedBlock = block;
        }
        return (words[(int) (n & 3)] >>> 8) >= threshold;
    }

    private void block(long counter, int[] out) {
        round(out, (int) counter, (int) (counter >>> 32), off0, off1, key0, key1);
    }

    /**
     * The four words of the block for {@code counter} under {@code (seed, offset)}: counter
     * {@code (lo(counter), hi(counter), lo(offset), hi(offset))}, key {@code (lo(seed), hi(seed))}.
     */
    static void block(long seed, long offset, long counter, int[] out) {
        round(out, (int) counter, (int) (counter >>> 32), (int) offset, (int) (offset >>> 32), (int) seed,
                (int) (seed >>> 32));
    }

    /** The uniform of a word, {@code (w >>> 8)·2⁻²⁴} in {@code [0, 1)}: exact in float (24 bits). */
    static float uniform(int word) {
        return (word >>> 8) * 0x1p-24f;
    }

    /** Ten rounds on counter {@code (c0, c1, c2, c3)} and key {@code (k0, k1)}, into {@code out}. */
    static void round(int[] out, int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int r = 0; r < 10; r++) {
            long p0 = M0 * (c0 & 0xFFFFFFFFL);
            long p1 = M1 * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }
}
