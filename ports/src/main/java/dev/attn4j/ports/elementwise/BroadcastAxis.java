package dev.attn4j.ports.elementwise;

/** Which dimension a vector runs along when it multiplies a tensor viewed as {@code [rows, C]}. */
public enum BroadcastAxis {
    /**
     * A vector of length {@code C} (the last dimension) scales every row alike: DeepNorm's per-feature residual
     * scale, VeRA's {@code λ_d} and {@code λ_b}.
     */
    COLUMNS,
    /** A vector with one entry per row (all leading dimensions) scales each row: per-token weights, keep masks. */
    ROWS
}
