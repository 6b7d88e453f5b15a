package dev.attn4j.oracle;

import dev.attn4j.ports.attention.Dropout;

/**
 * The keep/drop decision of every attention probability, by the counter mapping written in the Javadoc of
 * {@link Dropout} (the one place that mapping is defined): element {@code n = ((b·H + h)·Sq + i)·Sk + j}
 * takes word {@code n & 3} of Philox4x32-10 with key {@code (lo(seed), hi(seed))} and counter
 * {@code (lo(n>>>2), hi(n>>>2), lo(offset), hi(offset))}; {@code u = (w >>> 8)·2⁻²⁴}; kept iff {@code u >= p}.
 *
 * <pre>{@code
 * boolean kept = DropoutBits.kept(dropout, dims, b, h, i, j);
 * }</pre>
 */
public final class DropoutBits {
    private static final double TWO_POW_MINUS_24 = 0x1.0p-24;

    private DropoutBits() {
    }

    /** The uniform in [0, 1) that element {@code (b, h, i, j)} draws. */
    public static double uniform(Dropout dropout, AttentionDims d, int b, int h, int i, int j) {
        long n = (((long) b * d.heads() + h) * d.seqQ() + i) * d.seqK() + j;
        long block = n >>> 2;
        int[] counter = {(int) block, (int) (block >>> 32), (int) dropout.offset(), (int) (dropout.offset() >>> 32)};
        int[] key = {(int) dropout.seed(), (int) (dropout.seed() >>> 32)};
        int w = Philox4x32.generate(counter, key)[(int) (n & 3)];
        return (w >>> 8) * TWO_POW_MINUS_24;
    }

    /** Whether element {@code (b, h, i, j)} is kept (always, without dropout). */
    public static boolean kept(Dropout dropout, AttentionDims d, int b, int h, int i, int j) {
        return !dropout.enabled() || uniform(dropout, d, b, h, i, j) >= dropout.p();
    }
}
