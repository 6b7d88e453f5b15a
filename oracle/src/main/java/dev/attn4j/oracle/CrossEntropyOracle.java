package dev.attn4j.oracle;

/**
 * Linear cross-entropy, written from {@link dev.attn4j.ports.loss.CrossEntropyRequest}: for each row {@code t} the
 * whole logit row {@code z = h_t·Wᵀ + b} (no chunks, no online softmax), {@code ℓ_t = logsumexp(z) − z[target_t]},
 * rows whose target is the ignore index count for nothing; {@code g = gradScale·(softmax(z) − onehot)} on counted
 * rows, {@code dh = g·W}, {@code dW += gᵀ·h}, {@code db += Σ g}. In a reduced precision logits, softmax and sums
 * are binary32 and stored gradients are rounded to the storage type (losses are F32 outputs).
 *
 * <pre>{@code
 * CrossEntropyOracle.Result r = CrossEntropyOracle.run(h, rows, d, w, vocab, b, targets, -100, 1f / rows,
 *         true, dW0, db0, Precision.FP64);
 * double meanLoss = r.lossSum() / r.count();
 * }</pre>
 */
public final class CrossEntropyOracle {

    private CrossEntropyOracle() {
    }

    /**
     * Everything a fused call can return.
     *
     * @param lossSum  the sum of the counted rows' losses
     * @param count    how many rows were counted
     * @param perToken each row's loss, 0 for ignored rows
     * @param dHidden  {@code [rows, d]}, or {@code null} when not asked
     * @param dWeight  the weight accumulator after the addition, or {@code null} without one
     * @param dBias    the bias accumulator after the addition, or {@code null} without one
     */
    public record Result(double lossSum, double count, double[] perToken, double[] dHidden, double[] dWeight,
                         double[] dBias) {
    }

    /**
     * Loss and gradients.
     *
     * @param hidden      {@code [rows, d]}
     * @param rows        rows (tokens)
     * @param d           hidden width
     * @param weight      {@code [vocab, d]}
     * @param vocab       {@code V}
     * @param bias        {@code [vocab]} or {@code null}
     * @param targets     {@code [rows]}: class ids or {@code ignoreIndex}
     * @param ignoreIndex the target of a row that counts for nothing
     * @param gradScale   the gradients' factor
     * @param inputGrad   whether to compute {@code dHidden}
     * @param weightGrad  the weight's accumulator, or {@code null}
     * @param biasGrad    the bias's accumulator, or {@code null}
     * @param precision   {@link Precision#FP64} for golden values, the storage type's for the ref
     * @return every output
     */
    public static Result run(double[] hidden, int rows, int d, double[] weight, int vocab, double[] bias, int[] targets,
                             int ignoreIndex, double gradScale, boolean inputGrad, double[] weightGrad,
                             double[] biasGrad, Precision precision) {
        Precision acc = precision.accumulator();
        double[] perToken = new double[rows];
        double lossSum = 0;
        int count = 0;
        double[] g = new double[rows * vocab];   // the gradient over the logits, 0 on ignored rows
        double[] z = new double[vocab];
        for (int t = 0; t < rows; t++) {
            if (targets[t] == ignoreIndex) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                double dot = 0;
                for (int k = 0; k < d; k++) {
                    dot = acc.round(dot + acc.round(hidden[t * d + k] * weight[v * d + k]));
                }
                z[v] = bias == null ? dot : acc.round(dot + bias[v]);
                max = Math.max(max, z[v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum = acc.round(sum + acc.round(Math.exp(acc.round(z[v] - max))));
            }
            double lse = acc.round(max + acc.round(Math.log(sum)));
            perToken[t] = acc.round(lse - z[targets[t]]);
            lossSum = acc.round(lossSum + perToken[t]);
            count++;
            for (int v = 0; v < vocab; v++) {
                double p = acc.round(Math.exp(acc.round(z[v] - lse)));
                g[t * vocab + v] = acc.round(gradScale * (v == targets[t] ? acc.round(p - 1) : p));
            }
        }
        double[] dHidden = null;
        if (inputGrad) {
            dHidden = new double[rows * d];
            for (int t = 0; t < rows; t++) {
                for (int k = 0; k < d; k++) {
                    double s = 0;
                    for (int v = 0; v < vocab; v++) {
                        s = acc.round(s + acc.round(g[t * vocab + v] * weight[v * d + k]));
                    }
                    dHidden[t * d + k] = precision.round(s);
                }
            }
        }
        double[] dWeight = null;
        if (weightGrad != null) {
            dWeight = new double[vocab * d];
            for (int v = 0; v < vocab; v++) {
                for (int k = 0; k < d; k++) {
                    double s = 0;
                    for (int t = 0; t < rows; t++) {
                        s = acc.round(s + acc.round(g[t * vocab + v] * hidden[t * d + k]));
                    }
                    dWeight[v * d + k] = precision.round(acc.round(weightGrad[v * d + k] + s));
                }
            }
        }
        double[] dBias = null;
        if (biasGrad != null) {
            dBias = new double[vocab];
            for (int v = 0; v < vocab; v++) {
                double s = 0;
                for (int t = 0; t < rows; t++) {
                    s = acc.round(s + g[t * vocab + v]);
                }
                dBias[v] = precision.round(acc.round(biasGrad[v] + s));
            }
        }
        return new Result(lossSum, count, perToken, dHidden, dWeight, dBias);
    }
}
