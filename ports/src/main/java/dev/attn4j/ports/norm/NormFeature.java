package dev.attn4j.ports.norm;

/** Features of the normalisation port, declared in {@link NormCapabilities}. */
public enum NormFeature {
    /** LayerNorm forward and backward (with and without bias). */
    LAYER_NORM,
    /** RMSNorm forward and backward. */
    RMS_NORM,
    /** The fused residual and DeepNorm forms {@code norm(α·residual + input)}. */
    FUSED_RESIDUAL
}
