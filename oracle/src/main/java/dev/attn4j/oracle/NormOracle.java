package dev.attn4j.oracle;

import dev.attn4j.ports.norm.NormKind;

/**
 * Naive LayerNorm and RMSNorm over the last dimension, forward and backward, with the fused residual form
 * {@code h = α·residual + input} (docs/design.md §5). LayerNorm: {@code y = (h − mean)·rstd·γ (+ β)},
 * {@code rstd = 1/sqrt(var + eps)} with the biased variance; RMSNorm: {@code y = h·rstd·γ},
 * {@code rstd = 1/sqrt(mean(h²) + eps)}. Backward with {@code x̂} the normalised row and {@code g = dy·γ}:
 * {@code dh = rstd·(g − mean(g) − x̂·mean(g·x̂))} (LayerNorm; RMSNorm drops {@code mean(g)}), plus
 * {@code dSum}; {@code dInput = dh}, {@code dResidual = α·dh}, {@code dγ = Σ dy·x̂}, {@code dβ = Σ dy}.
 *
 * <p>In a reduced precision, {@code input}, {@code residual}, {@code h}, {@code y} and the input-shaped
 * gradients are rounded to the storage type; statistics, {@code γ}, {@code β} and their gradients are
 * binary32 (the suite uploads γ and β as F32).
 *
 * <pre>{@code
 * NormOutputs out = NormOracle.forward(problem, Precision.FP64);
 * NormGrads g = NormOracle.backward(problem, dy, null, Precision.FP64);
 * }</pre>
 */
public final class NormOracle {

    private NormOracle() {
    }

    /**
     * {@return {@code y}, the statistics and {@code h}}
     *
     * @param p the probability
     * @param precision the precision to compute in
     */
    public static NormOutputs forward(NormProblem p, Precision precision) {
        Precision acc = accumulator(precision);
        int c = p.cols();
        double[] h = sum(p, precision);
        double[] y = new double[h.length];
        double[] mean = p.kind() == NormKind.LAYER_NORM ? new double[p.rows()] : null;
        double[] rstd = new double[p.rows()];
        for (int r = 0; r < p.rows(); r++) {
            int base = r * c;
            double mu = 0;
            if (mean != null) {
                for (int x = 0; x < c; x++) {
                    mu = acc.round(mu + h[base + x]);
                }
                mu = acc.round(mu / c);
                mean[r] = mu;
            }
            double sq = 0;
            for (int x = 0; x < c; x++) {
                double centred = acc.round(h[base + x] - mu);
                sq = acc.round(sq + acc.round(centred * centred));
            }
            double rs = acc.round(1.0 / Math.sqrt(acc.round(acc.round(sq / c) + p.eps())));
            rstd[r] = rs;
            for (int x = 0; x < c; x++) {
                double xhat = acc.round(acc.round(h[base + x] - mu) * rs);
                double out = acc.round(xhat * acc.round(p.gamma()[x]));
                if (p.beta() != null) {
                    out = acc.round(out + acc.round(p.beta()[x]));
                }
                y[base + x] = precision.round(out);
            }
        }
        return new NormOutputs(y, mean, rstd, p.residual() != null ? h : null);
    }

    /**
     * Gradients for upstream {@code dy} and the extra gradient {@code dSum} reaching {@code h} (or
     * {@code null}), recomputing the forward at the same precision.
     *
     * @param p the probability
     * @param dy gradient of the loss w.r.t. the output
     * @param dSum gradient of the loss w.r.t. the saved sum, or null
     * @param precision the precision to compute in
     * @return the gradients
     */
    public static NormGrads backward(NormProblem p, double[] dy, double[] dSum, Precision precision) {
        if (dy.length != p.rows() * p.cols() || (dSum != null && dSum.length != dy.length)) {
            throw new IllegalArgumentException("dy and dSum need " + p.rows() * p.cols() + " values");
        }
        if (dSum != null && p.residual() == null) {
            throw new IllegalArgumentException("dSum needs a residual");
        }
        Precision acc = accumulator(precision);
        NormOutputs fwd = forward(p, precision);
        double[] h = p.residual() != null ? fwd.sum() : rounded(p.input(), precision);
        int c = p.cols();
        double[] dInput = new double[h.length];
        double[] dResidual = p.residual() != null ? new double[h.length] : null;
        double[] dGamma = new double[c];
        double[] dBeta = p.beta() != null ? new double[c] : null;
        double[] xhat = new double[c];
        double[] g = new double[c];
        for (int r = 0; r < p.rows(); r++) {
            int base = r * c;
            double mu = fwd.mean() != null ? fwd.mean()[r] : 0;
            double rs = fwd.rstd()[r];
            double sumG = 0;
            double sumGx = 0;
            for (int x = 0; x < c; x++) {
                double upstream = precision.round(dy[base + x]);
                xhat[x] = acc.round(acc.round(h[base + x] - mu) * rs);
                g[x] = acc.round(upstream * acc.round(p.gamma()[x]));
                sumG = acc.round(sumG + g[x]);
                sumGx = acc.round(sumGx + acc.round(g[x] * xhat[x]));
                dGamma[x] = acc.round(dGamma[x] + acc.round(upstream * xhat[x]));
                if (dBeta != null) {
                    dBeta[x] = acc.round(dBeta[x] + upstream);
                }
            }
            double meanG = p.kind() == NormKind.LAYER_NORM ? acc.round(sumG / c) : 0;
            double meanGx = acc.round(sumGx / c);
            for (int x = 0; x < c; x++) {
                double dh = acc.round(rs * acc.round(acc.round(g[x] - meanG) - acc.round(xhat[x] * meanGx)));
                if (dSum != null) {
                    dh = acc.round(dh + precision.round(dSum[base + x]));
                }
                dInput[base + x] = precision.round(dh);
                if (dResidual != null) {
                    dResidual[base + x] = precision.round(acc.round(p.alpha() * dh));
                }
            }
        }
        return new NormGrads(dInput, dResidual, dGamma, dBeta);
    }

    private static double[] sum(NormProblem p, Precision precision) {
        Precision acc = accumulator(precision);
        double[] h = new double[p.input().length];
        for (int n = 0; n < h.length; n++) {
            double x = precision.round(p.input()[n]);
            if (p.residual() != null) {
                x = acc.round(acc.round(p.alpha() * precision.round(p.residual()[n])) + x);
            }
            h[n] = precision.round(x);
        }
        return h;
    }

    private static double[] rounded(double[] x, Precision precision) {
        double[] r = new double[x.length];
        for (int n = 0; n < x.length; n++) {
            r[n] = precision.round(x[n]);
        }
        return r;
    }

    private static Precision accumulator(Precision precision) {
        return precision == Precision.FP64 ? Precision.FP64 : Precision.FP32;
    }
}
