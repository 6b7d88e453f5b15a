package dev.attn4j.backend.cpu;

/**
 * The plain-Java twin of {@link VectorNormKernels}, used when the Vector API is not enabled. The
 * statistics sums run in interleaved fp32 accumulators, which shortens the dependency chain and, like the
 * vector lanes, keeps each partial sum over a fraction of the row.
 */
final class ScalarNormKernels implements CpuNormKernels {
    static final ScalarNormKernels INSTANCE = new ScalarNormKernels();

    private ScalarNormKernels() {
    }

    @Override
    public void residualSum(float[] x, int xOff, float[] r, int rOff, float alpha, float[] h, int hOff, int c) {
        for (int j = 0; j < c; j++) {
            h[hOff + j] = Math.fma(alpha, r[rOff + j], x[xOff + j]);
        }
    }

    @Override
    public float sumAbout(float[] a, int off, int c, float shift) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = off;
        int end = off + c;
        for (int bound = off + (c & ~3); i < bound; i += 4) {
            s0 += a[i] - shift;
            s1 += a[i + 1] - shift;
            s2 += a[i + 2] - shift;
            s3 += a[i + 3] - shift;
        }
        for (; i < end; i++) {
            s0 += a[i] - shift;
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public float centredSquares(float[] a, int off, int c, float centre) {
        float d0 = 0, d1 = 0, q0 = 0, q1 = 0;
        int i = off;
        int end = off + c;
        for (int bound = off + (c & ~1); i < bound; i += 2) {
            float u = a[i] - centre;
            float v = a[i + 1] - centre;
            d0 += u;
            d1 += v;
            q0 = Math.fma(u, u, q0);
            q1 = Math.fma(v, v, q1);
        }
        for (; i < end; i++) {
            float u = a[i] - centre;
            d0 += u;
            q0 = Math.fma(u, u, q0);
        }
        float d = d0 + d1;
        return (q0 + q1) - d * d / c;
    }

    @Override
    public float squares(float[] a, int off, int c) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = off;
        int end = off + c;
        for (int bound = off + (c & ~3); i < bound; i += 4) {
            s0 = Math.fma(a[i], a[i], s0);
            s1 = Math.fma(a[i + 1], a[i + 1], s1);
            s2 = Math.fma(a[i + 2], a[i + 2], s2);
            s3 = Math.fma(a[i + 3], a[i + 3], s3);
        }
        for (; i < end; i++) {
            s0 = Math.fma(a[i], a[i], s0);
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public void normalize(float[] h, int hOff, int c, float mean, float rstd, float[] gamma, int gOff, float[] beta,
                          int bOff, float[] y, int yOff) {
        if (beta == null) {
            for (int j = 0; j < c; j++) {
                y[yOff + j] = (h[hOff + j] - mean) * rstd * gamma[gOff + j];
            }
        } else {
            for (int j = 0; j < c; j++) {
                y[yOff + j] = Math.fma((h[hOff + j] - mean) * rstd, gamma[gOff + j], beta[bOff + j]);
            }
        }
    }

    @Override
    public void gradientSums(float[] dy, int dyOff, float[] h, int hOff, int c, float mean, float rstd, float[] gamma,
                             int gOff, float[] dGamma, float[] dBeta, float[] sums) {
        float sg = 0;
        float sgx = 0;
        for (int j = 0; j < c; j++) {
            float d = dy[dyOff + j];
            float xhat = (h[hOff + j] - mean) * rstd;
            float g = d * gamma[gOff + j];
            sg += g;
            sgx = Math.fma(g, xhat, sgx);
            dGamma[j] = Math.fma(d, xhat, dGamma[j]);
        }
        if (dBeta != null) {
            for (int j = 0; j < c; j++) {
                dBeta[j] += dy[dyOff + j];
            }
        }
        sums[0] = sg;
        sums[1] = sgx;
    }

    @Override
    public void inputGradient(float[] dy, int dyOff, float[] h, int hOff, int c, float mean, float rstd, float[] gamma,
                              int gOff, float a, float b, float[] dSum, int dsOff, float[] dh, int dhOff,
                              float[] dResidual, int drOff, float alpha) {
        for (int j = 0; j < c; j++) {
            float xhat = (h[hOff + j] - mean) * rstd;
            float t = Math.fma(-xhat, b, dy[dyOff + j] * gamma[gOff + j]) - a;
            dh[dhOff + j] = dSum == null ? t * rstd : Math.fma(t, rstd, dSum[dsOff + j]);
        }
        if (dResidual != null) {
            for (int j = 0; j < c; j++) {
                dResidual[drOff + j] = alpha * dh[dhOff + j];
            }
        }
    }
}
