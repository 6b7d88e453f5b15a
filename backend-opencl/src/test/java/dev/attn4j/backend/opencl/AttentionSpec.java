package dev.attn4j.backend.opencl;

import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.DenseBias;
import dev.attn4j.oracle.DenseMaskFlags;
import dev.attn4j.oracle.FlashMaskIndices;
import dev.attn4j.ports.attention.Dropout;

/**
 * The sizes and options of one attention test case (the values of {@code q, k, v} come from the case's seed);
 * {@link #problem} hands it to the float64 oracle.
 */
record AttentionSpec(int b, int sq, int sk, int h, int hkv, int d, boolean causal, int winLeft, int winRight,
                     double softcap, double[] alibi, boolean alibiPerBatch, double[] table, Extras x) {

    /**
     * The O(S²) escape hatches, FlashMask and dropout of a case: dense mask {@code [maskB, maskH, Sq, Sk]},
     * dense bias {@code [biasB, biasH, Sq, Sk]}, FlashMask {@code [B, flashHeads, Sk, flashN]}.
     */
    record Extras(boolean[] mask, int maskB, int maskH, double[] bias, int biasB, int biasH, int[] flash,
                  int flashHeads, int flashN, double dropP, long seed, long offset) {
        static final Extras NONE = new Extras(null, 0, 0, null, 0, 0, null, 0, 0, 0, 0, 0);

        Extras withMask(boolean[] m, int mb, int mh) {
            return new Extras(m, mb, mh, bias, biasB, biasH, flash, flashHeads, flashN, dropP, seed, offset);
        }

        Extras withBias(double[] t, int bb, int bh) {
            return new Extras(mask, maskB, maskH, t, bb, bh, flash, flashHeads, flashN, dropP, seed, offset);
        }

        Extras withFlash(int[] f, int heads, int n) {
            return new Extras(mask, maskB, maskH, bias, biasB, biasH, f, heads, n, dropP, seed, offset);
        }

        Extras withDropout(double p, long sd, long off) {
            return new Extras(mask, maskB, maskH, bias, biasB, biasH, flash, flashHeads, flashN, p, sd, off);
        }

        @Override
        public String toString() {
            return (mask != null ? " denseMask[" + maskB + "," + maskH + "]" : "")
                    + (bias != null ? " denseBias[" + biasB + "," + biasH + "]" : "")
                    + (flash != null ? " flashMask[Hm=" + flashHeads + ",n=" + flashN + "]" : "")
                    + (dropP > 0 ? " dropout=" + dropP : "");
        }
    }

    AttentionSpec(int b, int sq, int sk, int h, int hkv, int d, boolean causal, int winLeft, int winRight,
                  double softcap, double[] alibi, boolean alibiPerBatch, double[] table) {
        this(b, sq, sk, h, hkv, d, causal, winLeft, winRight, softcap, alibi, alibiPerBatch, table, Extras.NONE);
    }

    AttentionSpec with(Extras extras) {
        return new AttentionSpec(b, sq, sk, h, hkv, d, causal, winLeft, winRight, softcap, alibi, alibiPerBatch, table,
                extras);
    }

    /** A seed fixed by the case's contents, so every run draws the same data. */
    long seed() {
        return java.util.Objects.hash(b, sq, sk, h, hkv, d, causal, winLeft, winRight, softcap,
                java.util.Arrays.hashCode(alibi), alibiPerBatch, java.util.Arrays.hashCode(table), x.toString(),
                java.util.Arrays.hashCode(x.flash), java.util.Arrays.hashCode(x.mask), x.seed);
    }

    /** The case with these inputs, as the oracle takes it (default scale {@code 1/sqrt(D)}). */
    AttentionProblem problem(double[] q, double[] k, double[] v) {
        return new AttentionProblem(new AttentionDims(b, sq, sk, h, hkv, d), q, k, v, 1.0 / Math.sqrt(d), causal,
                winLeft, winRight, softcap, alibi, table,
                x.bias == null ? null : new DenseBias(x.biasB, x.biasH, x.bias),
                x.flash == null ? null : new FlashMaskIndices(x.flashHeads, x.flashN, x.flash),
                x.mask == null ? null : new DenseMaskFlags(x.maskB, x.maskH, x.mask),
                new Dropout(x.dropP, x.seed, x.offset));
    }

    @Override
    public String toString() {
        return "B=" + b + " Sq=" + sq + " Sk=" + sk + " H=" + h + " Hkv=" + hkv + " D=" + d
                + (causal ? " causal" : "") + (winLeft >= 0 || winRight >= 0 ? " window(" + winLeft + "," + winRight + ")" : "")
                + (softcap > 0 ? " softcap=" + softcap : "") + (alibi != null ? " alibi" + (alibiPerBatch ? "[B,H]" : "[H]") : "")
                + (table != null ? " table" : "") + x;
    }
}
