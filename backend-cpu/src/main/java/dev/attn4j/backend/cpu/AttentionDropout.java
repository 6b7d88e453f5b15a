package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionShape;

import java.util.Arrays;

/**
 * Attention dropout (docs/design.md §4 step 6): element {@code (b, h, i, j)} of the probabilities is kept, scaled by
 * {@code 1/(1−p)}, when the counter-based {@link Philox} generator says so for its flat index, so the forward and
 * the backward draw the same mask without storing it, whatever tile or thread computes the element.
 */
final class AttentionDropout {
    private final int seqQ;
    private final int seqK;
    private final int heads;
    private final double p;
    private final long seed;
    private final long offset;
    private final float keepScale;

    AttentionDropout(AttentionShape shape, AttentionOptions o) {
        this.seqQ = shape.seqQ();
        this.seqK = shape.seqK();
        this.heads = shape.heads();
        this.p = o.dropout().p();
        this.seed = o.dropout().seed();
        this.offset = o.dropout().offset();
        this.keepScale = (float) (1.0 / (1.0 - p));
    }

    boolean active() {
        return p > 0.0;
    }

    /** A generator for one worker. */
    Philox philox() {
        return new Philox(seed, offset, p);
    }

    /**
     * Multiplies the probabilities {@code p[base .. base+cols)} of row {@code i}, columns {@code j0..}, by their
     * keep factors (0 or {@code 1/(1−p)}).
     */
    void dropRow(Philox philox, float[] probs, int base, int b, int h, int i, int j0, int cols) {
        long n = (((long) b * heads + h) * seqQ + i) * seqK + j0;
        for (int c = 0; c < cols; c++) {
            probs[base + c] = philox.keep(n + c) ? probs[base + c] * keepScale : 0f;
        }
    }

    /**
     * Writes the keep factors (0 or {@code 1/(1−p)}) of row {@code i}, columns {@code j0..j0+cols}, into
     * {@code keep[base..]}, and 0 for the padding up to {@code colsPad}.
     */
    void keepFactors(Philox philox, float[] keep, int base, int b, int h, int i, int j0, int cols, int colsPad) {
        long n = (((long) b * heads + h) * seqQ + i) * seqK + j0;
        for (int c = 0; c < cols; c++) {
            keep[base + c] = philox.keep(n + c) ? keepScale : 0f;
        }
        Arrays.fill(keep, base + cols, base + colsPad, 0f);
    }
}
