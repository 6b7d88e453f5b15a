package dev.attn4j.ports.norm;

/** Which normalisation (docs/design.md §5). */
public enum NormKind {
    /** {@code y = (h - mean) · rstd · γ (+ β)}, {@code rstd = 1/sqrt(var + eps)}, biased variance. */
    LAYER_NORM,
    /** {@code y = h · rstd · γ}, {@code rstd = 1/sqrt(mean(h²) + eps)}. */
    RMS_NORM
}
