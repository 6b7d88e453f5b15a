package dev.attn4j.oracle;

/**
 * The oracle's attention forward outputs.
 *
 * <pre>{@code
 * AttentionOutputs out = AttentionOracle.forward(problem, Precision.FP64);
 * double rowLse = out.lse()[problem.dims().lse(b, h, i)];
 * }</pre>
 *
 * @param o   {@code [B, Sq, H, D]}
 * @param lse {@code [B, H, Sq]}, −∞ for rows with no unmasked key
 */
public record AttentionOutputs(double[] o, double[] lse) {
}
