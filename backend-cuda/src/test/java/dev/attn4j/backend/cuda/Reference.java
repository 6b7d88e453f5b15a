package dev.attn4j.backend.cuda;

/**
 * Naive float64 references for the GPU tests, written straight from docs/design.md §4–5 and sharing nothing with
 * the kernels: full score rows, no tiling, no online softmax.
 */
final class Reference {
    private Reference() {
    }

    /** Problem sizes; layouts q [B,Sq,H,D], k/v [B,Sk,Hkv,D], lse [B,H,Sq]. */
    record Dims(int b, int sq, int sk, int h, int hkv, int d) {
        int q(int bb, int i, int hh, int dd) {
            return ((bb * sq + i) * h + hh) * d + dd;
        }

        int k(int bb, int j, int g, int dd) {
            return ((bb * sk + j) * hkv + g) * d + dd;
        }

        int lse(int bb, int hh, int i) {
            return (bb * h + hh) * sq + i;
        }
    }

    /** o and lse. */
    record Forward(double[] o, double[] lse) {
    }

    /** dq, dk, dv. */
    record Backward(double[] dq, double[] dk, double[] dv) {
    }

    /** Softmax probabilities of row (b, h, i); all zeros for a row with no visible key. */
    static double[] probabilities(float[] q, float[] k, Dims n, boolean causal, double scale, int b, int h, int i,
                                  double[] lseOut) {
        int g = h / (n.h() / n.hkv());
        int off = n.sk() - n.sq();
        double[] s = new double[n.sk()];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n.sk(); j++) {
            if (causal && j > i + off) {
                s[j] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double dot = 0;
            for (int d = 0; d < n.d(); d++) {
                dot += (double) q[n.q(b, i, h, d)] * k[n.k(b, j, g, d)];
            }
            s[j] = scale * dot;
            max = Math.max(max, s[j]);
        }
        double[] p = new double[n.sk()];
        if (max == Double.NEGATIVE_INFINITY) {
            lseOut[0] = Double.NEGATIVE_INFINITY;
            return p;
        }
        double sum = 0;
        for (int j = 0; j < n.sk(); j++) {
            p[j] = Math.exp(s[j] - max);
            sum += p[j];
        }
        for (int j = 0; j < n.sk(); j++) {
            p[j] /= sum;
        }
        lseOut[0] = max + Math.log(sum);
        return p;
    }

    static Forward attention(float[] q, float[] k, float[] v, Dims n, boolean causal, double scale) {
        double[] o = new double[n.b() * n.sq() * n.h() * n.d()];
        double[] lse = new double[n.b() * n.h() * n.sq()];
        double[] rowLse = new double[1];
        for (int b = 0; b < n.b(); b++) {
            for (int h = 0; h < n.h(); h++) {
                int g = h / (n.h() / n.hkv());
                for (int i = 0; i < n.sq(); i++) {
                    double[] p = probabilities(q, k, n, causal, scale, b, h, i, rowLse);
                    lse[n.lse(b, h, i)] = rowLse[0];
                    for (int d = 0; d < n.d(); d++) {
                        double acc = 0;
                        for (int j = 0; j < n.sk(); j++) {
                            acc += p[j] * v[n.k(b, j, g, d)];
                        }
                        o[n.q(b, i, h, d)] = acc;
                    }
                }
            }
        }
        return new Forward(o, lse);
    }

    static Backward attentionBackward(float[] dO, float[] q, float[] k, float[] v, Dims n, boolean causal, double scale) {
        double[] dq = new double[q.length];
        double[] dk = new double[k.length];
        double[] dv = new double[v.length];
        double[] rowLse = new double[1];
        for (int b = 0; b < n.b(); b++) {
            for (int h = 0; h < n.h(); h++) {
                int g = h / (n.h() / n.hkv());
                for (int i = 0; i < n.sq(); i++) {
                    double[] p = probabilities(q, k, n, causal, scale, b, h, i, rowLse);
                    double[] dp = new double[n.sk()];
                    double delta = 0;
                    for (int j = 0; j < n.sk(); j++) {
                        for (int d = 0; d < n.d(); d++) {
                            dp[j] += (double) dO[n.q(b, i, h, d)] * v[n.k(b, j, g, d)];
                        }
                        delta += p[j] * dp[j];
                    }
                    for (int j = 0; j < n.sk(); j++) {
                        double ds = p[j] * (dp[j] - delta);
                        for (int d = 0; d < n.d(); d++) {
                            dq[n.q(b, i, h, d)] += scale * ds * k[n.k(b, j, g, d)];
                            dk[n.k(b, j, g, d)] += scale * ds * q[n.q(b, i, h, d)];
                            dv[n.k(b, j, g, d)] += p[j] * dO[n.q(b, i, h, d)];
                        }
                    }
                }
            }
        }
        return new Backward(dq, dk, dv);
    }

    /** y, mean (LayerNorm), rstd and h of {@code norm(alpha·residual + x)} over rows of length c. */
    record Norm(double[] y, double[] mean, double[] rstd, double[] h) {
    }

    static Norm norm(float[] x, float[] residual, double alpha, float[] gamma, float[] beta, boolean rms, double eps, int c) {
        int rows = x.length / c;
        double[] h = new double[x.length];
        double[] y = new double[x.length];
        double[] mean = new double[rows];
        double[] rstd = new double[rows];
        for (int r = 0; r < rows; r++) {
            double mu = 0;
            for (int i = 0; i < c; i++) {
                h[r * c + i] = (residual == null ? 0 : alpha * residual[r * c + i]) + x[r * c + i];
                mu += h[r * c + i];
            }
            mu = rms ? 0 : mu / c;
            double var = 0;
            for (int i = 0; i < c; i++) {
                var += (h[r * c + i] - mu) * (h[r * c + i] - mu);
            }
            mean[r] = mu;
            rstd[r] = 1 / Math.sqrt(var / c + eps);
            for (int i = 0; i < c; i++) {
                y[r * c + i] = (h[r * c + i] - mu) * rstd[r] * gamma[i] + (beta == null ? 0 : beta[i]);
            }
        }
        return new Norm(y, mean, rstd, h);
    }

    /** dh (before dSum), dGamma, dBeta of the norm above, by the chain rule written out per element. */
    record NormGrad(double[] dh, double[] dGamma, double[] dBeta) {
    }

    static NormGrad normBackward(Norm f, float[] dy, float[] gamma, boolean rms, int c) {
        int rows = dy.length / c;
        double[] dh = new double[dy.length];
        double[] dGamma = new double[c];
        double[] dBeta = new double[c];
        for (int r = 0; r < rows; r++) {
            double sumG = 0;
            double sumGx = 0;
            for (int i = 0; i < c; i++) {
                double xhat = (f.h()[r * c + i] - f.mean()[r]) * f.rstd()[r];
                double g = dy[r * c + i] * (double) gamma[i];
                sumG += g;
                sumGx += g * xhat;
                dGamma[i] += dy[r * c + i] * xhat;
                dBeta[i] += dy[r * c + i];
            }
            for (int i = 0; i < c; i++) {
                double xhat = (f.h()[r * c + i] - f.mean()[r]) * f.rstd()[r];
                double g = dy[r * c + i] * (double) gamma[i];
                dh[r * c + i] = f.rstd()[r] * (g - (rms ? 0 : sumG / c) - xhat * sumGx / c);
            }
        }
        return new NormGrad(dh, dGamma, dBeta);
    }
}
