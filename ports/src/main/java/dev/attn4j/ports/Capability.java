package dev.attn4j.ports;

/**
 * Features a backend may declare in its {@link Capabilities}. Semantics of each are fixed by docs/design.md §4–5.
 */
public enum Capability {
    /** Attention forward, {@code o} and {@code lse}. */
    ATTENTION_FORWARD,
    /** Attention backward, {@code dq, dk, dv}. */
    ATTENTION_BACKWARD,
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
    /** Attention dropout with the Philox counter mapping of the ports docs. */
    DROPOUT,
    /** Bit-identical backward results run to run on request. */
    DETERMINISTIC_BACKWARD,
    /** LayerNorm forward and backward (with and without bias). */
    LAYER_NORM,
    /** RMSNorm forward and backward. */
    RMS_NORM,
    /** Fused residual and DeepNorm forms {@code norm(α·x + f)}. */
    FUSED_RESIDUAL_NORM,
    /** Rotary / xPos application to q and k, forward and backward. */
    ROTARY,
    /** Attention on {@code [B, H, S, D]} tensors ({@link dev.attn4j.ports.attention.AttentionLayout#BHSD}). */
    BHSD_LAYOUT
}
