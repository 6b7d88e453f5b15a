package dev.attn4j.conformance.oracle;

/**
 * The oracle's attention forward outputs.
 *
 * @param o   {@code [B, Sq, H, D]}
 * @param lse {@code [B, H, Sq]}, −∞ for rows with no unmasked key
 */
public record AttentionOutputs(double[] o, double[] lse) {
}
