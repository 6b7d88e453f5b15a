package dev.attn4j.app.bench;

import dev.attn4j.ports.attention.AttentionShape;

/**
 * Floating-point operation counts as FlashAttention reports them (docs/design.md §8), so that GFLOP/s figures compare
 * with published ones: forward {@code 4·B·H·Sq·Sk·D}, half of it when causal; backward 2.5 times the forward.
 *
 * <pre>{@code
 * double gflops = Flops.attention(shape, true, false) / seconds / 1e9;
 * }</pre>
 */
public final class Flops {
    private Flops() {
    }

    /** FLOPs of one attention call of {@code shape}. */
    public static double attention(AttentionShape shape, boolean causal, boolean backward) {
        double forward = 4.0 * shape.batch() * shape.heads() * shape.seqQ() * shape.seqK() * shape.headDim();
        if (causal) {
            forward /= 2;
        }
        return backward ? 2.5 * forward : forward;
    }
}
