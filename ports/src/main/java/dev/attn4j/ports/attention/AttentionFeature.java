package dev.attn4j.ports.attention;

/**
 * Optional features of the attention port, declared in {@link AttentionCapabilities}. The semantics of each
 * are fixed by {@link AttentionOptions} (docs/design.md §4–5).
 */
public enum AttentionFeature {
    /** The backward pass, {@code dq, dk, dv}. */
    BACKWARD,
    /** Causal masking, bottom-right aligned. */
    CAUSAL,
    /** Grouped-query and multi-query attention ({@code H != Hkv}). */
    GQA,
    /** Local (sliding-window) attention. */
    SLIDING_WINDOW,
    /** Logit soft-capping {@code c·tanh(s/c)}. */
    SOFTCAP,
    /** ALiBi slopes. */
    ALIBI,
    /** A per-head relative-position bias table (T5, KERPLE, Sandwich), forward. */
    BIAS_TABLE,
    /** The gradient of the relative-position bias table in backward. */
    BIAS_TABLE_GRAD,
    /** FlashMask column-sparse masks ({@code startend_row_indices}). */
    FLASH_MASK,
    /** A dense boolean mask (escape hatch, O(S²)). */
    DENSE_MASK,
    /** A dense additive bias (escape hatch, O(S²)). */
    DENSE_BIAS,
    /** Attention dropout with the Philox counter mapping of {@link Dropout}. */
    DROPOUT,
    /** Bit-identical backward results run to run on request. */
    DETERMINISTIC_BACKWARD,
    /** Attention on {@code [B, H, S, D]} tensors ({@link AttentionLayout#BHSD}). */
    BHSD_LAYOUT
}
