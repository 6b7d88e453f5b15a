package dev.attn4j.oracle;

/**
 * The oracle's normalisation forward outputs.
 *
 * <pre>{@code
 * NormOutputs out = NormOracle.forward(problem, Precision.FP32);
 * }</pre>
 *
 * @param y    {@code [rows, C]}
 * @param mean {@code [rows]} (LayerNorm), else {@code null}
 * @param rstd {@code [rows]}
 * @param sum  {@code h = α·residual + input} with a residual, else {@code null}
 */
public record NormOutputs(double[] y, double[] mean, double[] rstd, double[] sum) {
}
