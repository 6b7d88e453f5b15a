package dev.attn4j.ports.attention;

import dev.attn4j.ports.tensor.Shape;

/**
 * How {@code q, k, v, o} (and {@code dO, dq, dk, dv}) hold their four dimensions, both row-major and
 * contiguous. {@link #BSHD} is FlashAttention's layout and attn4j's default; {@link #BHSD} is PyTorch's
 * ({@code scaled_dot_product_attention} takes {@code [B, H, S, D]}), so tensors shaped that way run without a
 * transposing copy. {@code lse} is {@code [B, H, Sq]} in both. Kernels index by strides, so the layout costs
 * no copy; a backend that does not implement {@link #BHSD} does not declare
 * {@link AttentionFeature#BHSD_LAYOUT} and rejects it before any kernel runs.
 *
 * <pre>{@code
 * // q [B, H, Sq, D], k and v [B, Hkv, Sk, D], as PyTorch holds them
 * var options = AttentionOptions.builder().layout(AttentionLayout.BHSD).causal(true).build();
 * }</pre>
 */
public enum AttentionLayout {
    /** {@code [B, S, H, D]}: a token's heads side by side (FlashAttention, the default). */
    BSHD,
    /** {@code [B, H, S, D]}: a head's tokens side by side (PyTorch's SDPA). */
    BHSD;

    /**
     * The shape of a tensor of {@code seq} rows of {@code heads} heads in this layout.
     *
     * @param batch   B
     * @param seq     S
     * @param heads   H (or Hkv)
     * @param headDim D
     * @return {@code [B, S, H, D]} or {@code [B, H, S, D]}
     */
    public Shape shape(int batch, int seq, int heads, int headDim) {
        return this == BSHD ? Shape.of(batch, seq, heads, headDim) : Shape.of(batch, heads, seq, headDim);
    }

    /**
     * Dimension index of S in this layout.
     *
     * @return 1 for BSHD, 2 for BHSD
     */
    public int seqDim() {
        return this == BSHD ? 1 : 2;
    }

    /**
     * Dimension index of H in this layout.
     *
     * @return 2 for BSHD, 1 for BHSD
     */
    public int headsDim() {
        return this == BSHD ? 2 : 1;
    }

    /**
     * How the dimensions read, for messages.
     *
     * @param seq   the name of the sequence dimension, e.g. {@code Sq}
     * @param heads the name of the head dimension, e.g. {@code Hkv}
     * @return e.g. {@code [B, Sq, H, D]}
     */
    public String describe(String seq, String heads) {
        return this == BSHD ? "[B, " + seq + ", " + heads + ", D]" : "[B, " + heads + ", " + seq + ", D]";
    }

    /**
     * The other layout.
     *
     * @return BHSD for BSHD and BSHD for BHSD
     */
    public AttentionLayout other() {
        return this == BSHD ? BHSD : BSHD;
    }
}
