package dev.attn4j.backend.cpu;

/**
 * Double-precision LayerNorm / RMSNorm written straight from the definitions, for the tests only. The
 * backward pass multiplies by the full per-row Jacobian {@code ∂x̂_j/∂h_i} (O(C²) a row), derived by the
 * chain rule, so it shares no closed form with the kernels.
 */
final class NormReference {
    final double[] h;
    final double[] y;
    final double[] mean;
    final double[] rstd;
    private final boolean layerNorm;
    private final int rows;
    private final int c;
    private final double[] gamma;
    private final double alpha;

    /**
     * Forward over {@code rows} rows of {@code c}: {@code h = α·r + x} ({@code r} may be {@code null}),
     * {@code y = x̂·γ (+ β)}.
     */
    NormReference(boolean layerNorm, float[] x, float[] r, double alpha, float[] gamma, float[] beta, double eps,
                  int rows, int c) {
        this.layerNorm = layerNorm;
        this.rows = rows;
        this.c = c;
        this.alpha = alpha;
        this.gamma = widen(gamma);
        h = new double[rows * c];
        y = new double[rows * c];
        mean = new double[rows];
        rstd = new double[rows];
        for (int i = 0; i < h.length; i++) {
            h[i] = (r == null ? 0 : alpha * r[i]) + x[i];
        }
        for (int row = 0; row < rows; row++) {
            int off = row * c;
            double mu = 0;
            if (layerNorm) {
                for (int j = 0; j < c; j++) {
                    mu += h[off + j];
                }
                mu /= c;
            }
            double sq = 0;
            for (int j = 0; j < c; j++) {
                double d = h[off + j] - mu;
                sq += d * d;
            }
            double rs = 1 / Math.sqrt(sq / c + eps);
            mean[row] = mu;
            rstd[row] = rs;
            for (int j = 0; j < c; j++) {
                y[off + j] = (h[off + j] - mu) * rs * gamma[j] + (beta == null ? 0 : beta[j]);
            }
        }
    }

    /** Gradients for upstream {@code dy} and extra {@code dSum} (may be {@code null}). */
    Grads backward(float[] dy, float[] dSum) {
        double[] dh = new double[rows * c];
        double[] dGamma = new double[c];
        double[] dBeta = new double[c];
        for (int row = 0; row < rows; row++) {
            int off = row * c;
            double mu = mean[row];
            double rs = rstd[row];
            for (int j = 0; j < c; j++) {
                double xhat = (h[off + j] - mu) * rs;
                dGamma[j] += dy[off + j] * xhat;
                dBeta[j] += dy[off + j];
            }
            for (int i = 0; i < c; i++) {
                double di = h[off + i] - mu;
                double acc = 0;
                for (int j = 0; j < c; j++) {
                    double dj = h[off + j] - mu;
                    // x̂_j = (h_j - μ)·rstd; ∂μ/∂h_i = 1/C (LN only); ∂rstd/∂h_i = -rstd³·(h_i - μ)/C
                    double jac = rs * ((i == j ? 1 : 0) - (layerNorm ? 1.0 / c : 0)) - dj * rs * rs * rs * di / c;
                    acc += dy[off + j] * gamma[j] * jac;
                }
                dh[off + i] = acc + (dSum == null ? 0 : dSum[off + i]);
            }
        }
        double[] dResidual = new double[dh.length];
        for (int i = 0; i < dh.length; i++) {
            dResidual[i] = alpha * dh[i];
        }
        return new Grads(dh, dResidual, dGamma, dBeta);
    }

    record Grads(double[] dInput, double[] dResidual, double[] dGamma, double[] dBeta) {
    }

    static double[] widen(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
