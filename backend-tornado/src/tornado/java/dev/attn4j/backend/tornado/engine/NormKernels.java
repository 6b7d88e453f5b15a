package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * LayerNorm / RMSNorm kernels, one work item per row (forward, and the input gradient) or per column (the
 * gamma/beta gradients, summed over rows in a fixed order so they are deterministic). Statistics accumulate
 * in float; the tests bound the error against a double reference.
 *
 * <p>Tensors are blocks of the engine's float heap ({@link DeviceHeap}); where each starts, the sizes and the
 * flag bits that select the variant travel in {@code meta} (slots below), α and ε in {@code fmeta}, so one
 * compiled kernel serves every request.
 */
final class NormKernels {
    /** {@code flags} bit: a residual is added ({@code h = α·residual + x}). */
    static final int RESIDUAL = 1;
    /** {@code flags} bit: LayerNorm (mean subtracted) rather than RMSNorm. */
    static final int LAYER = 2;
    /** {@code flags} bit: a beta is added. */
    static final int BETA = 4;
    /** {@code flags} bit of the backward: an incoming {@code dSum} is added to the input gradient. */
    static final int DSUM = 8;
    /** {@code meta} slots. */
    static final int ROWS = 0, C = 1, FLAGS = 2, X_AT = 3, RES_AT = 4, GAMMA_AT = 5, BETA_AT = 6, Y_AT = 7,
            MEAN_AT = 8, RSTD_AT = 9, SUM_AT = 10, DY_AT = 11, DSUM_AT = 12, DH_AT = 13, DRES_AT = 14,
            DGAMMA_AT = 15, DBETA_AT = 16, META_SIZE = 17;
    /** {@code fmeta} slots. */
    static final int ALPHA = 0, EPS = 1, FMETA_SIZE = 2;

    private NormKernels() {
    }

    /** Normalises row {@code r = globalIdx} of {@code x} (or of {@code h = α·res + x}), writing y, mean, rstd and h. */
    static void forward(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int r = ctx.globalIdx;
        if (r < meta.get(ROWS)) {
            int c = meta.get(C);
            int flags = meta.get(FLAGS);
            float alpha = fmeta.get(ALPHA);
            float eps = fmeta.get(EPS);
            int gammaAt = meta.get(GAMMA_AT), betaAt = meta.get(BETA_AT);
            int base = r * c;
            int xAt = meta.get(X_AT) + base, resAt = meta.get(RES_AT) + base, sumAt = meta.get(SUM_AT) + base;
            int yAt = meta.get(Y_AT) + base;
            boolean residual = (flags & RESIDUAL) != 0;
            boolean layer = (flags & LAYER) != 0;
            float mu = 0.0f;
            if (residual) {
                for (int j = 0; j < c; j++) {
                    heap.set(sumAt + j, alpha * heap.get(resAt + j) + heap.get(xAt + j));
                }
            }
            if (layer) {
                float s = 0.0f;
                for (int j = 0; j < c; j++) {
                    s += residual ? heap.get(sumAt + j) : heap.get(xAt + j);
                }
                mu = s / c;
            }
            float sq = 0.0f;
            for (int j = 0; j < c; j++) {
                float d = (residual ? heap.get(sumAt + j) : heap.get(xAt + j)) - mu;
                sq += d * d;
            }
            // In double and rounded once, as the cpu backend does: OpenCL's float sqrt and division may each be
            // 2.5-3 ulp off, which for eps-dominated rows (rstd ~ 1/sqrt(eps)) exceeds the suite's tolerance.
            float rs = (float) (1.0 / Math.sqrt((double) sq / c + eps));
            if (layer) {
                heap.set(meta.get(MEAN_AT) + r, mu);
            }
            heap.set(meta.get(RSTD_AT) + r, rs);
            for (int j = 0; j < c; j++) {
                float h = residual ? heap.get(sumAt + j) : heap.get(xAt + j);
                float v = (h - mu) * rs * heap.get(gammaAt + j);
                if ((flags & BETA) != 0) {
                    v += heap.get(betaAt + j);
                }
                heap.set(yAt + j, v);
            }
        }
    }

    /**
     * The gradient of the normalised input {@code h} per row: {@code dh = rstd·(g·dy − mean(g·dy) −
     * x̂·mean(g·dy·x̂))} (the mean term only for LayerNorm), plus the incoming {@code dSum} when given
     * ({@code flags} bit {@link #DSUM}); with a residual ({@link #RESIDUAL}) also {@code dRes = α·dh}. One work
     * item per row; {@code X_AT} names the normalised input h.
     */
    static void backwardInput(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int r = ctx.globalIdx;
        if (r < meta.get(ROWS)) {
            int c = meta.get(C);
            int flags = meta.get(FLAGS);
            float alpha = fmeta.get(ALPHA);
            int gammaAt = meta.get(GAMMA_AT);
            int base = r * c;
            int hAt = meta.get(X_AT) + base, dyAt = meta.get(DY_AT) + base, dSumAt = meta.get(DSUM_AT) + base;
            int dhAt = meta.get(DH_AT) + base, dResAt = meta.get(DRES_AT) + base;
            boolean layer = (flags & LAYER) != 0;
            float mu = layer ? heap.get(meta.get(MEAN_AT) + r) : 0.0f;
            float rs = heap.get(meta.get(RSTD_AT) + r);
            float a = 0.0f;
            float b = 0.0f;
            for (int j = 0; j < c; j++) {
                float xhat = (heap.get(hAt + j) - mu) * rs;
                float g = heap.get(gammaAt + j) * heap.get(dyAt + j);
                a += g;
                b += g * xhat;
            }
            a = layer ? a / c : 0.0f;
            b = b / c;
            for (int j = 0; j < c; j++) {
                float xhat = (heap.get(hAt + j) - mu) * rs;
                float g = heap.get(gammaAt + j) * heap.get(dyAt + j);
                float d = rs * (g - a - xhat * b);
                if ((flags & DSUM) != 0) {
                    d += heap.get(dSumAt + j);
                }
                if ((flags & RESIDUAL) != 0) {
                    heap.set(dResAt + j, alpha * d);
                }
                heap.set(dhAt + j, d);
            }
        }
    }

    /** {@code dGamma_j = Σ_r dy·x̂} and {@code dBeta_j = Σ_r dy}, one work item per column. */
    static void backwardParams(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int j = ctx.globalIdx;
        int c = meta.get(C);
        if (j < c) {
            int rows = meta.get(ROWS);
            int flags = meta.get(FLAGS);
            int hAt = meta.get(X_AT), dyAt = meta.get(DY_AT), meanAt = meta.get(MEAN_AT), rstdAt = meta.get(RSTD_AT);
            boolean layer = (flags & LAYER) != 0;
            float sg = 0.0f;
            float sb = 0.0f;
            for (int r = 0; r < rows; r++) {
                float mu = layer ? heap.get(meanAt + r) : 0.0f;
                float d = heap.get(dyAt + r * c + j);
                sg += d * (heap.get(hAt + r * c + j) - mu) * heap.get(rstdAt + r);
                sb += d;
            }
            heap.set(meta.get(DGAMMA_AT) + j, sg);
            if ((flags & BETA) != 0) {
                heap.set(meta.get(DBETA_AT) + j, sb);
            }
        }
    }
}
