package dev.attn4j.oracle;

/**
 * The oracle's normalisation backward outputs.
 *
 * <pre>{@code
 * NormGrads g = NormOracle.backward(problem, dy, null, Precision.FP64);
 * }</pre>
 *
 * @param dInput    {@code [rows, C]}
 * @param dResidual {@code [rows, C]} with a residual, else {@code null}
 * @param dGamma    {@code [C]}
 * @param dBeta     {@code [C]} with a beta, else {@code null}
 */
public record NormGrads(double[] dInput, double[] dResidual, double[] dGamma, double[] dBeta) {
}
