package dev.attn4j.oracle;

import dev.attn4j.ports.elementwise.BroadcastAxis;

/**
 * The element-wise port's operations, from their request records: {@link dev.attn4j.ports.elementwise.AddRequest},
 * {@link dev.attn4j.ports.elementwise.AxpyRequest}, {@link dev.attn4j.ports.elementwise.ScaleRequest},
 * {@link dev.attn4j.ports.elementwise.BroadcastMultiplyRequest} and its backward, and
 * {@link dev.attn4j.ports.elementwise.TokenShiftRequest}. The token shift's backward is computed here as the adjoint
 * of its forward (each moved value sent back where it came from), not as the shift the other way the port promises
 * it equals, so the suite checks that promise. Reduced precisions round products and sums to binary32 and stored
 * outputs to the storage type.
 *
 * <pre>{@code
 * double[] h = ElementwiseOracle.add(x, f, 1, Precision.FP64);
 * double[] shifted = ElementwiseOracle.shiftTokens(x, b, s, c, c / 2, c / 2, 1, segments);
 * }</pre>
 */
public final class ElementwiseOracle {

    private ElementwiseOracle() {
    }

    /**
     * {@return {@code a + alpha·b}}
     *
     * @param a         the first operand
     * @param b         the second, shaped as {@code a}
     * @param alpha     {@code b}'s scale
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] add(double[] a, double[] b, double alpha, Precision precision) {
        Precision acc = precision.accumulator();
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            y[i] = precision.round(acc.round(a[i] + acc.round(alpha * b[i])));
        }
        return y;
    }

    /**
     * {@return {@code y + alpha·x}, the new {@code y}}
     *
     * @param alpha     {@code x}'s scale
     * @param x         the added tensor
     * @param y         the accumulator's old values
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] axpy(double alpha, double[] x, double[] y, Precision precision) {
        return add(y, x, alpha, precision);
    }

    /**
     * {@return {@code alpha·x}}
     *
     * @param x         the tensor
     * @param alpha     the factor
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] scale(double[] x, double alpha, Precision precision) {
        Precision acc = precision.accumulator();
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = precision.round(acc.round(alpha * x[i]));
        }
        return y;
    }

    /**
     * {@return {@code x [rows, cols] ⊙ v}, {@code v} per column ({@code [cols]}) or per row ({@code [rows]})}
     *
     * @param x         {@code [rows, cols]}
     * @param cols      the last dimension
     * @param v         the vector
     * @param axis      how {@code v} is broadcast
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] multiply(double[] x, int cols, double[] v, BroadcastAxis axis, Precision precision) {
        Precision acc = precision.accumulator();
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = precision.round(acc.round(x[i] * v[axis == BroadcastAxis.COLUMNS ? i % cols : i / cols]));
        }
        return y;
    }

    /**
     * The gradients of {@link #multiply}.
     *
     * @param dx         {@code dy ⊙ v}, or {@code null} when not asked
     * @param vectorGrad the accumulator plus {@code Σ dy·x} over the broadcast dimension, or {@code null}
     */
    public record MultiplyGrads(double[] dx, double[] vectorGrad) {
    }

    /**
     * {@return {@code dx = dy ⊙ v} when {@code inputGrad}, and {@code vectorGrad + Σ dy·x} (rows in order) when it is
     * given}
     *
     * @param x          the forward's input {@code [rows, cols]}
     * @param cols       the last dimension
     * @param v          the vector
     * @param axis       how {@code v} is broadcast
     * @param dy         the gradient of {@code y}
     * @param inputGrad  whether to compute {@code dx}
     * @param vectorGrad the vector's accumulator, or {@code null}
     * @param precision  {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static MultiplyGrads multiplyBackward(double[] x, int cols, double[] v, BroadcastAxis axis, double[] dy,
                                                 boolean inputGrad, double[] vectorGrad, Precision precision) {
        Precision acc = precision.accumulator();
        double[] dx = inputGrad ? multiply(dy, cols, v, axis, precision) : null;
        double[] dv = null;
        if (vectorGrad != null) {
            double[] sums = new double[v.length];
            for (int i = 0; i < x.length; i++) {
                int at = axis == BroadcastAxis.COLUMNS ? i % cols : i / cols;
                sums[at] = acc.round(sums[at] + acc.round(dy[i] * x[i]));
            }
            dv = new double[v.length];
            for (int j = 0; j < v.length; j++) {
                dv[j] = precision.round(acc.round(vectorGrad[j] + sums[j]));
            }
        }
        return new MultiplyGrads(dx, dv);
    }

    /**
     * Where token {@code t} of row {@code b} takes its shifted features from: {@code t − amount} when that token is
     * in the row and in the same document (segment ids equal, neither negative: padding neither gives nor
     * receives), else −1 (zeros).
     */
    static int source(int b, int t, int seq, int amount, int[] segments) {
        long s = (long) t - amount;
        if (s < 0 || s >= seq) {
            return -1;
        }
        int from = (int) s;
        if (segments != null) {
            int mine = segments[b * seq + t];
            int theirs = segments[b * seq + from];
            if (mine < 0 || theirs < 0 || mine != theirs) {
                return -1;
            }
        }
        return from;
    }

    /**
     * {@return {@code x [B, S, C]} with features {@code [begin, begin + count)} of each token taken from its source}
     *
     * @param x        {@code [B, S, C]}
     * @param batch    {@code B}
     * @param seq      {@code S}
     * @param cols     {@code C}
     * @param begin    first shifted feature
     * @param count    shifted features
     * @param amount   tokens the features move forward
     * @param segments {@code [B, S]} document ids (negative: padding), or {@code null} for one document per row
     */
    public static double[] shiftTokens(double[] x, int batch, int seq, int cols, int begin, int count, int amount,
                                       int[] segments) {
        double[] y = x.clone();
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                int from = source(b, t, seq, amount, segments);
                for (int c = begin; c < begin + count; c++) {
                    y[(b * seq + t) * cols + c] = from < 0 ? 0 : x[(b * seq + from) * cols + c];
                }
            }
        }
        return y;
    }

    /**
     * The adjoint of {@link #shiftTokens} applied to {@code dy}: the unshifted features pass through, and each
     * shifted value's gradient goes back to the token it was taken from.
     *
     * @param dy       the gradient of the shifted tensor, {@code [B, S, C]}
     * @param batch    {@code B}
     * @param seq      {@code S}
     * @param cols     {@code C}
     * @param begin    first shifted feature
     * @param count    shifted features
     * @param amount   tokens the forward moved the features
     * @param segments {@code [B, S]} document ids, or {@code null}
     * @return the gradient of the forward's input
     */
    public static double[] shiftTokensBackward(double[] dy, int batch, int seq, int cols, int begin, int count,
                                               int amount, int[] segments) {
        double[] dx = dy.clone();
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                for (int c = begin; c < begin + count; c++) {
                    dx[(b * seq + t) * cols + c] = 0;
                }
            }
        }
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                int from = source(b, t, seq, amount, segments);
                if (from < 0) {
                    continue;
                }
                for (int c = begin; c < begin + count; c++) {
                    dx[(b * seq + from) * cols + c] += dy[(b * seq + t) * cols + c];
                }
            }
        }
        return dx;
    }
}
