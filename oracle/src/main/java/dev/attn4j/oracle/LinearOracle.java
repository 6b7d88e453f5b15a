package dev.attn4j.oracle;

import dev.attn4j.ports.linear.WeightLayout;

/**
 * Naive linear layers and matrix products, written from {@link dev.attn4j.ports.linear.LinearRequest},
 * {@link dev.attn4j.ports.linear.LinearBackwardRequest} and {@link dev.attn4j.ports.linear.MatmulRequest}: one dot
 * product per output element, summed in index order. In {@link Precision#FP64} the golden values; in a reduced
 * precision every product and sum is rounded to binary32 and every stored output to the storage type (the "ref"
 * of the pass rule). Inputs are taken as stored (already in their storage type).
 *
 * <pre>{@code
 * double[] y = LinearOracle.forward(x, rows, in, w, WeightLayout.OUT_IN, out, b, Precision.FP64);
 * LinearOracle.Grads g = LinearOracle.backward(x, rows, in, w, WeightLayout.OUT_IN, out, dy, true, dW0, db0,
 *         Precision.FP64);
 * }</pre>
 */
public final class LinearOracle {

    private LinearOracle() {
    }

    /**
     * The gradients of a linear layer.
     *
     * @param dx      {@code [rows, in]}, or {@code null} when not asked
     * @param dWeight the weight accumulator after the addition (the weight's layout), or {@code null} without one
     * @param dBias   the bias accumulator after the addition {@code [out]}, or {@code null} without one
     */
    public record Grads(double[] dx, double[] dWeight, double[] dBias) {
    }

    /**
     * The sizes of a (batched) product {@code C [batch, M, N] = alpha·op(A)·op(B) + beta·C}: {@code A} is
     * {@code [batch|1, M, K]} ({@code [batch|1, K, M]} transposed), {@code B} {@code [batch|1, K, N]}
     * ({@code [batch|1, N, K]} transposed); a shared operand (batch 1) is used by every product.
     *
     * @param batch      products ({@code 1} for rank-2 operands)
     * @param aShared    whether {@code A} has batch 1 while {@code batch > 1}
     * @param bShared    whether {@code B} has batch 1 while {@code batch > 1}
     * @param m          rows of {@code C}
     * @param n          columns of {@code C}
     * @param k          the reduced dimension
     * @param transposeA whether {@code op(A) = Aᵀ}
     * @param transposeB whether {@code op(B) = Bᵀ}
     */
    public record MatmulDims(int batch, boolean aShared, boolean bShared, int m, int n, int k, boolean transposeA,
                             boolean transposeB) {

        /** Index of {@code op(A)[r, x]} of product {@code p}. */
        int a(int p, int r, int x) {
            int base = aShared ? 0 : p * m * k;
            return base + (transposeA ? x * m + r : r * k + x);
        }

        /** {@code op(B)[x, c]} of product {@code p}. */
        int b(int p, int x, int c) {
            int base = bShared ? 0 : p * k * n;
            return base + (transposeB ? c * k + x : x * n + c);
        }
    }

    /** {@code W(o, i)} of a weight stored in {@code layout}. */
    private static int weightIndex(WeightLayout layout, int in, int out, int o, int i) {
        return layout == WeightLayout.OUT_IN ? o * in + i : i * out + o;
    }

    /**
     * {@return {@code y [rows, out] = x [rows, in]·Wᵀ (+ b)}}
     *
     * @param x         {@code [rows, in]}
     * @param rows      rows
     * @param in        input features
     * @param w         the weight in {@code layout}
     * @param layout    how the weight is stored
     * @param out       output features
     * @param b         {@code [out]}, or {@code null}
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     */
    public static double[] forward(double[] x, int rows, int in, double[] w, WeightLayout layout, int out, double[] b,
                                   Precision precision) {
        Precision acc = precision.accumulator();
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double dot = 0;
                for (int i = 0; i < in; i++) {
                    dot = acc.round(dot + acc.round(x[r * in + i] * w[weightIndex(layout, in, out, o, i)]));
                }
                if (b != null) {
                    dot = acc.round(dot + b[o]);
                }
                y[r * out + o] = precision.round(dot);
            }
        }
        return y;
    }

    /**
     * The backward of {@link #forward}: {@code dx = dy·W} when {@code inputGrad}, {@code dWeight = weightGrad + dyᵀ·x}
     * (in the weight's layout) when {@code weightGrad} is given, {@code dBias = biasGrad + Σ_rows dy} when
     * {@code biasGrad} is given. The accumulators are not written.
     *
     * @param x          {@code [rows, in]}
     * @param rows       rows
     * @param in         input features
     * @param w          the weight in {@code layout}
     * @param layout     how the weight is stored
     * @param out        output features
     * @param dy         {@code [rows, out]}
     * @param inputGrad  whether to compute {@code dx}
     * @param weightGrad the weight's accumulator, or {@code null}
     * @param biasGrad   the bias's accumulator, or {@code null}
     * @param precision  {@link Precision#FP64} for golden values, the storage type's for the ref
     * @return the gradients asked for
     */
    public static Grads backward(double[] x, int rows, int in, double[] w, WeightLayout layout, int out, double[] dy,
                                 boolean inputGrad, double[] weightGrad, double[] biasGrad, Precision precision) {
        Precision acc = precision.accumulator();
        double[] dx = null;
        if (inputGrad) {
            dx = new double[rows * in];
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < in; i++) {
                    double sum = 0;
                    for (int o = 0; o < out; o++) {
                        sum = acc.round(sum + acc.round(dy[r * out + o] * w[weightIndex(layout, in, out, o, i)]));
                    }
                    dx[r * in + i] = precision.round(sum);
                }
            }
        }
        double[] dW = null;
        if (weightGrad != null) {
            dW = new double[weightGrad.length];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    double sum = 0;
                    for (int r = 0; r < rows; r++) {
                        sum = acc.round(sum + acc.round(dy[r * out + o] * x[r * in + i]));
                    }
                    int at = weightIndex(layout, in, out, o, i);
                    dW[at] = precision.round(acc.round(weightGrad[at] + sum));
                }
            }
        }
        double[] db = null;
        if (biasGrad != null) {
            db = new double[out];
            for (int o = 0; o < out; o++) {
                double sum = 0;
                for (int r = 0; r < rows; r++) {
                    sum = acc.round(sum + dy[r * out + o]);
                }
                db[o] = precision.round(acc.round(biasGrad[o] + sum));
            }
        }
        return new Grads(dx, dW, db);
    }

    /**
     * {@code alpha·op(A)·op(B) + beta·C} for every product of the batch, {@code [batch, M, N]}; with
     * {@code beta = 0} the old {@code C} is not read (it may hold anything, NaN included).
     *
     * @param d         the sizes
     * @param a         {@code A}
     * @param b         {@code B}
     * @param c         {@code C}'s old values (unread when {@code beta = 0}; may then be {@code null})
     * @param alpha     the product's scale
     * @param beta      {@code C}'s scale
     * @param precision {@link Precision#FP64} for golden values, the storage type's for the ref
     * @return the new {@code C}
     */
    public static double[] matmul(MatmulDims d, double[] a, double[] b, double[] c, double alpha, double beta,
                                  Precision precision) {
        Precision acc = precision.accumulator();
        double[] out = new double[d.batch() * d.m() * d.n()];
        for (int p = 0; p < d.batch(); p++) {
            for (int r = 0; r < d.m(); r++) {
                for (int col = 0; col < d.n(); col++) {
                    double dot = 0;
                    for (int x = 0; x < d.k(); x++) {
                        dot = acc.round(dot + acc.round(a[d.a(p, r, x)] * b[d.b(p, x, col)]));
                    }
                    int at = (p * d.m() + r) * d.n() + col;
                    double value = acc.round(alpha * dot);
                    if (beta != 0) {
                        value = acc.round(value + acc.round(beta * c[at]));
                    }
                    out[at] = precision.round(value);
                }
            }
        }
        return out;
    }
}
