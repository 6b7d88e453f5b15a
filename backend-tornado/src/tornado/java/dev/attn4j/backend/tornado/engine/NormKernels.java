package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * LayerNorm / RMSNorm kernels, one work item per row (forward, and the input gradient) or per column (the
 * gamma/beta gradients, summed over rows in a fixed order so they are deterministic). Statistics accumulate
 * in float; the tests bound the error against a double reference.
 *
 * <p>Flag bits select the variant so that one compiled kernel serves every request of its shape.
 */
final class NormKernels {
    /** {@code flags} bit: a residual is added ({@code h = α·residual + x}). */
    static final int RESIDUAL = 1;
    /** {@code flags} bit: LayerNorm (mean subtracted) rather than RMSNorm. */
    static final int LAYER = 2;
    /** {@code flags} bit: a beta is added. */
    static final int BETA = 4;

    private NormKernels() {
    }

    /** Normalises each row of {@code x} (or of {@code h = α·res + x}), writing y, mean, rstd and h. */
    static void forward(FloatArray x, FloatArray res, FloatArray gamma, FloatArray beta, FloatArray y,
                        FloatArray mean, FloatArray rstd, FloatArray sum, float alpha, float eps, int rows, int c,
                        int flags) {
        for (@Parallel int r = 0; r < rows; r++) {
            int base = r * c;
            boolean residual = (flags & RESIDUAL) != 0;
            boolean layer = (flags & LAYER) != 0;
            float mu = 0.0f;
            if (residual) {
                for (int j = 0; j < c; j++) {
                    sum.set(base + j, alpha * res.get(base + j) + x.get(base + j));
                }
            }
            if (layer) {
                float s = 0.0f;
                for (int j = 0; j < c; j++) {
                    s += residual ? sum.get(base + j) : x.get(base + j);
                }
                mu = s / c;
            }
            float sq = 0.0f;
            for (int j = 0; j < c; j++) {
                float d = (residual ? sum.get(base + j) : x.get(base + j)) - mu;
                sq += d * d;
            }
            // In double and rounded once, as the cpu backend does: OpenCL's float sqrt and division may each be
            // 2.5-3 ulp off, which for eps-dominated rows (rstd ~ 1/sqrt(eps)) exceeds the suite's tolerance.
            float rs = (float) (1.0 / Math.sqrt((double) sq / c + eps));
            if (layer) {
                mean.set(r, mu);
            }
            rstd.set(r, rs);
            for (int j = 0; j < c; j++) {
                float h = residual ? sum.get(base + j) : x.get(base + j);
                float v = (h - mu) * rs * gamma.get(j);
                if ((flags & BETA) != 0) {
                    v += beta.get(j);
                }
                y.set(base + j, v);
            }
        }
    }

    /**
     * The gradient of the normalised input {@code h} per row: {@code dh = rstd·(g·dy − mean(g·dy) −
     * x̂·mean(g·dy·x̂))} (the mean term only for LayerNorm), plus the incoming {@code dSum} when given
     * ({@code flags} bit {@link #RESIDUAL}); then {@code dRes = α·dh}.
     */
    static void backwardInput(FloatArray h, FloatArray dy, FloatArray gamma, FloatArray mean, FloatArray rstd,
                              FloatArray dSum, FloatArray dh, FloatArray dRes, float alpha, int rows, int c,
                              int flags) {
        for (@Parallel int r = 0; r < rows; r++) {
            int base = r * c;
            boolean layer = (flags & LAYER) != 0;
            float mu = layer ? mean.get(r) : 0.0f;
            float rs = rstd.get(r);
            float a = 0.0f;
            float b = 0.0f;
            for (int j = 0; j < c; j++) {
                float xhat = (h.get(base + j) - mu) * rs;
                float g = gamma.get(j) * dy.get(base + j);
                a += g;
                b += g * xhat;
            }
            a = layer ? a / c : 0.0f;
            b = b / c;
            for (int j = 0; j < c; j++) {
                float xhat = (h.get(base + j) - mu) * rs;
                float g = gamma.get(j) * dy.get(base + j);
                float d = rs * (g - a - xhat * b);
                if ((flags & RESIDUAL) != 0) {
                    d += dSum.get(base + j);
                    dRes.set(base + j, alpha * d);
                }
                dh.set(base + j, d);
            }
        }
    }

    /** {@code dGamma_j = Σ_r dy·x̂} and {@code dBeta_j = Σ_r dy}, one work item per column. */
    static void backwardParams(FloatArray h, FloatArray dy, FloatArray mean, FloatArray rstd, FloatArray dGamma,
                               FloatArray dBeta, int rows, int c, int flags) {
        for (@Parallel int j = 0; j < c; j++) {
            boolean layer = (flags & LAYER) != 0;
            float sg = 0.0f;
            float sb = 0.0f;
            for (int r = 0; r < rows; r++) {
                float mu = layer ? mean.get(r) : 0.0f;
                float d = dy.get(r * c + j);
                sg += d * (h.get(r * c + j) - mu) * rstd.get(r);
                sb += d;
            }
            dGamma.set(j, sg);
            if ((flags & BETA) != 0) {
                dBeta.set(j, sb);
            }
        }
    }
}
