package dev.attn4j.backend.cpu;

/** Plain-Java twin of {@link VectorTileMath}; the JIT may still auto-vectorise some loops. */
final class ScalarTileMath implements TileMath {
    static final ScalarTileMath INSTANCE = new ScalarTileMath();

    private ScalarTileMath() {
    }

    @Override
    public void gemm(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            int ci = cOff + i * ldc;
            if (!accumulate) {
                java.util.Arrays.fill(c, ci, ci + n, 0f);
            }
            for (int p = 0; p < k; p++) {
                float av = a[aOff + i * ars + p * acs];
                int bp = bOff + p * ldb;
                for (int j = 0; j < n; j++) {
                    c[ci + j] = Math.fma(av, b[bp + j], c[ci + j]);
                }
            }
        }
    }

    @Override
    public float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) {
            m = Math.max(m, x[i]);
        }
        return m;
    }

    @Override
    public void onlineSoftmax(float[] s, int ld, int rows, int n, float[] m, float[] mNew, float[] l, float[] acc,
                              int accLd) {
        for (int r = 0; r < rows; r++) {
            int so = r * ld;
            float mOld = m[r];
            float next = Math.max(mOld, max(s, so, n));
            if (next == Float.NEGATIVE_INFINITY) {
                java.util.Arrays.fill(s, so, so + n, 0f);
                continue;
            }
            float alpha = 1f;
            if (mOld != Float.NEGATIVE_INFINITY && mOld != next) {
                alpha = Exp.exp(mOld - next);
                scale(acc, r * accLd, accLd, alpha);
            }
            expShiftAccumulate(s, so, n, next, l, r * LANES, alpha);
            m[r] = next;
        }
    }

    @Override
    public void expShiftAccumulate(float[] x, int off, int n, float shift, float[] sums, int sumOff, float decay) {
        for (int lane = 0; lane < LANES; lane++) {
            sums[sumOff + lane] *= decay;
        }
        for (int i = 0; i < n; i++) {
            float e = Exp.exp(x[off + i] - shift);
            x[off + i] = e;
            sums[sumOff + i % LANES] += e;
        }
    }

    @Override
    public void expShift(float[] x, int off, int n, float shift) {
        for (int i = off; i < off + n; i++) {
            x[i] = Exp.exp(x[i] - shift);
        }
    }

    @Override
    public void dotRows(float[] a, int aOff, int lda, float[] w, int wOff, int ldw, float alpha,
                        float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate, float[] scratch) {
        int k0 = k - k % LANES;
        for (int i = 0; i < m; i++) {
            int ai = aOff + i * lda;
            for (int j = 0; j < n; j++) {
                int wj = wOff + j * ldw;
                java.util.Arrays.fill(scratch, 0, LANES, 0f);
                for (int p = 0; p < k0; p++) {
                    scratch[p % LANES] = Math.fma(a[ai + p], w[wj + p], scratch[p % LANES]);
                }
                TileMath.finishDot(a, ai, w, wj, k0, k, scratch, 0, alpha, c, cOff + i * ldc + j, accumulate);
            }
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float factor) {
        for (int i = off; i < off + n; i++) {
            x[i] *= factor;
        }
    }

    @Override
    public void softmaxGrad(float[] p, float[] dp, int off, int n, float d) {
        for (int i = off; i < off + n; i++) {
            dp[i] = p[i] * (dp[i] - d);
        }
    }
}
