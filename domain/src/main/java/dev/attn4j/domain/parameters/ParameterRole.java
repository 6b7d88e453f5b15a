package dev.attn4j.domain.parameters;

/** What a parameter is; the default optimizer grouping decays only {@link #WEIGHT} and {@link #EMBEDDING}. */
public enum ParameterRole {
    /** A linear layer's weight matrix. */
    WEIGHT,
    /** A bias vector. */
    BIAS,
    /** A normalisation gain or bias. */
    NORM,
    /** An embedding table. */
    EMBEDDING,
    /** A learned scale vector (DeepNorm's residual scale, VeRA's λ). */
    SCALE,
    /** A relative-position bias table. */
    POSITION_BIAS;

    /**
     * {@return whether AdamW's weight decay applies by default (Hugging Face's and nanoGPT's rule: not on biases and
     * norms)}
     */
    public boolean decayedByDefault() {
        return this == WEIGHT || this == EMBEDDING;
    }
}
