package dev.attn4j.oracle;

import dev.attn4j.ports.norm.NormKind;

/**
 * One normalisation call on the host: {@code rows × cols} input normalised over its last dimension, with
 * the fused residual form {@code h = α·residual + input} when {@code residual} is given (docs/design.md §5 and
 * {@link dev.attn4j.ports.norm.NormRequest}). Arrays are not copied.
 *
 * <pre>{@code
 * NormProblem p = new NormProblem(NormKind.RMS_NORM, 4, 64, x, null, 1, gamma, null, 1e-6);
 * }</pre>
 *
 * @param kind     LayerNorm or RMSNorm
 * @param rows     number of rows
 * @param cols     C, the normalised dimension
 * @param input    {@code [rows, C]}
 * @param residual {@code [rows, C]} or {@code null}
 * @param alpha    the residual's scale α
 * @param gamma    {@code [C]}
 * @param beta     {@code [C]} or {@code null} (LayerNorm only)
 * @param eps      added to the variance (mean square)
 */
public record NormProblem(NormKind kind, int rows, int cols, double[] input, double[] residual, double alpha,
                          double[] gamma, double[] beta, double eps) {

    /** Checks lengths and that {@code beta} goes with LayerNorm only. */
    public NormProblem {
        if (input.length != rows * cols) {
            throw new IllegalArgumentException("input: expected " + rows * cols + " values, got " + input.length);
        }
        if (residual != null && residual.length != rows * cols) {
            throw new IllegalArgumentException("residual: expected " + rows * cols + " values, got " + residual.length);
        }
        if (gamma.length != cols || (beta != null && beta.length != cols)) {
            throw new IllegalArgumentException("gamma and beta need " + cols + " values");
        }
        if (beta != null && kind != NormKind.LAYER_NORM) {
            throw new IllegalArgumentException("beta is for LayerNorm only");
        }
    }

    /**
     * {@return this problem with other tensors (used by finite differences)}
     *
     * @param input {@code [rows, C]}
     * @param residual {@code [rows, C]} or {@code null}
     * @param gamma {@code [C]}
     * @param beta {@code [C]} or {@code null} (LayerNorm only)
     */
    public NormProblem with(double[] input, double[] residual, double[] gamma, double[] beta) {
        return new NormProblem(kind, rows, cols, input, residual, alpha, gamma, beta, eps);
    }
}
