package dev.attn4j.backend.tornado.engine;

/** LayerNorm / RMSNorm forward and backward in double, written straight from the formulas. */
final class NormReference {
    final double[] h;
    final double[] y;
    final double[] mean;
    final double[] rstd;
    double[] dh;
    double[] dRes;
    double[] dGamma;
    double[] dBeta;
    private final boolean layer;
    private final double alpha;
    private final float[] gamma;
    private final int rows;
    private final int c;

    NormReference(boolean layer, float[] x, float[] res, double alpha, float[] gamma, float[] beta, double eps,
                  int rows, int c) {
        this.layer = layer;
        this.alpha = alpha;
        this.gamma = gamma;
        this.rows = rows;
        this.c = c;
        h = new double[rows * c];
        y = new double[rows * c];
        mean = new double[rows];
        rstd = new double[rows];
        for (int i = 0; i < rows * c; i++) {
            h[i] = res == null ? x[i] : alpha * res[i] + x[i];
        }
        for (int r = 0; r < rows; r++) {
            double m = 0;
            if (layer) {
                for (int j = 0; j < c; j++) {
                    m += h[r * c + j];
                }
                m /= c;
            }
            double v = 0;
            for (int j = 0; j < c; j++) {
                v += (h[r * c + j] - m) * (h[r * c + j] - m);
            }
            mean[r] = m;
            rstd[r] = 1 / Math.sqrt(v / c + eps);
            for (int j = 0; j < c; j++) {
                y[r * c + j] = (h[r * c + j] - m) * rstd[r] * gamma[j] + (beta == null ? 0 : beta[j]);
            }
        }
    }

    /** Gradients by the chain rule through xhat = (h - mean)·rstd, with mean and rstd functions of h. */
    void backward(float[] dy, float[] dSum) {
        dh = new double[rows * c];
        dRes = new double[rows * c];
        dGamma = new double[c];
        dBeta = new double[c];
        for (int r = 0; r < rows; r++) {
            double[] xhat = new double[c];
            double sumG = 0;
            double sumGx = 0;
            for (int j = 0; j < c; j++) {
                xhat[j] = (h[r * c + j] - mean[r]) * rstd[r];
                double g = gamma[j] * (double) dy[r * c + j];
                sumG += g;
                sumGx += g * xhat[j];
                dGamma[j] += dy[r * c + j] * xhat[j];
                dBeta[j] += dy[r * c + j];
            }
            for (int j = 0; j < c; j++) {
                double g = gamma[j] * (double) dy[r * c + j];
                double d = rstd[r] * (g - (layer ? sumG / c : 0) - xhat[j] * sumGx / c);
                if (dSum != null) {
                    d += dSum[r * c + j];
                }
                dh[r * c + j] = d;
                dRes[r * c + j] = alpha * d;
            }
        }
    }
}
