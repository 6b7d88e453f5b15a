package dev.attn4j.oracle;

/**
 * The oracle's attention backward outputs.
 *
 * <pre>{@code
 * AttentionGrads g = AttentionOracle.backward(problem, dO, Precision.FP64);
 * }</pre>
 *
 * @param dq         {@code [B, Sq, H, D]}
 * @param dk         {@code [B, Sk, Hkv, D]}
 * @param dv         {@code [B, Sk, Hkv, D]}
 * @param dBiasTable {@code [H, Sq + Sk - 1]}, or {@code null} when the problem has no table
 */
public record AttentionGrads(double[] dq, double[] dk, double[] dv, double[] dBiasTable) {
}
