package dev.attn4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link ScalarNormKernels}; only loaded when {@link Simd#available()}. Full vectors
 * run in the species' lanes, the row's tail in the scalar formula, so elementwise outputs match the
 * scalar twin bit for bit.
 *
 * <p>Lane sums are added up in lane order by {@link #total}, not by {@code reduceLanes(ADD)}: the latter
 * may add in any order, and does add in a different order before and after the JIT compiles it, which
 * made results differ from run to run.
 */
final class VectorNormKernels implements CpuNormKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorNormKernels() {
    }

    /** A new instance, typed as the interface so callers never link this class unless they run it. */
    static CpuNormKernels create() {
        return new VectorNormKernels();
    }

    @Override
    public void residualSum(float[] x, int xOff, float[] r, int rOff, float alpha, float[] h, int hOff, int c) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int j = 0;
        for (int bound = S.loopBound(c); j < bound; j += L) {
            FloatVector.fromArray(S, r, rOff + j).fma(va, FloatVector.fromArray(S, x, xOff + j)).intoArray(h, hOff + j);
        }
        for (; j < c; j++) {
            h[hOff + j] = Math.fma(alpha, r[rOff + j], x[xOff + j]);
        }
    }

    @Override
    public float sumAbout(float[] a, int off, int c, float shift) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(c); j < bound; j += L) {
            acc = acc.add(FloatVector.fromArray(S, a, off + j).sub(shift));
        }
        float s = total(acc);
        for (; j < c; j++) {
            s += a[off + j] - shift;
        }
        return s;
    }

    @Override
    public float centredSquares(float[] a, int off, int c, float centre) {
        FloatVector dev = FloatVector.zero(S);
        FloatVector sq = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(c); j < bound; j += L) {
            FloatVector u = FloatVector.fromArray(S, a, off + j).sub(centre);
            dev = dev.add(u);
            sq = u.fma(u, sq);
        }
        float d = total(dev);
        float q = total(sq);
        for (; j < c; j++) {
            float u = a[off + j] - centre;
            d += u;
            q = Math.fma(u, u, q);
        }
        return q - d * d / c;
    }

    @Override
    public float squares(float[] a, int off, int c) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(c); j < bound; j += L) {
            FloatVector v = FloatVector.fromArray(S, a, off + j);
            acc = v.fma(v, acc);
        }
        float s = total(acc);
        for (; j < c; j++) {
            s = Math.fma(a[off + j], a[off + j], s);
        }
        return s;
    }

    @Override
    public void normalize(float[] h, int hOff, int c, float mean, float rstd, float[] gamma, int gOff, float[] beta,
                          int bOff, float[] y, int yOff) {
        int j = 0;
        int bound = S.loopBound(c);
        if (beta == null) {
            for (; j < bound; j += L) {
                FloatVector.fromArray(S, h, hOff + j).sub(mean).mul(rstd).mul(FloatVector.fromArray(S, gamma, gOff + j))
                        .intoArray(y, yOff + j);
            }
            for (; j < c; j++) {
                y[yOff + j] = (h[hOff + j] - mean) * rstd * gamma[gOff + j];
            }
        } else {
            for (; j < bound; j += L) {
                FloatVector.fromArray(S, h, hOff + j).sub(mean).mul(rstd)
                        .fma(FloatVector.fromArray(S, gamma, gOff + j), FloatVector.fromArray(S, beta, bOff + j))
                        .intoArray(y, yOff + j);
            }
            for (; j < c; j++) {
                y[yOff + j] = Math.fma((h[hOff + j] - mean) * rstd, gamma[gOff + j], beta[bOff + j]);
            }
        }
    }

    @Override
    public void gradientSums(float[] dy, int dyOff, float[] h, int hOff, int c, float mean, float rstd, float[] gamma,
                             int gOff, float[] dGamma, float[] dBeta, float[] sums) {
        FloatVector sg = FloatVector.zero(S);
        FloatVector sgx = FloatVector.zero(S);
        int j = 0;
        int bound = S.loopBound(c);
        for (; j < bound; j += L) {
            FloatVector d = FloatVector.fromArray(S, dy, dyOff + j);
            FloatVector xhat = FloatVector.fromArray(S, h, hOff + j).sub(mean).mul(rstd);
            FloatVector g = d.mul(FloatVector.fromArray(S, gamma, gOff + j));
            sg = sg.add(g);
            sgx = g.fma(xhat, sgx);
            d.fma(xhat, FloatVector.fromArray(S, dGamma, j)).intoArray(dGamma, j);
            if (dBeta != null) {
                d.add(FloatVector.fromArray(S, dBeta, j)).intoArray(dBeta, j);
            }
        }
        float tg = total(sg);
        float tgx = total(sgx);
        for (; j < c; j++) {
            float d = dy[dyOff + j];
            float xhat = (h[hOff + j] - mean) * rstd;
            float g = d * gamma[gOff + j];
            tg += g;
            tgx = Math.fma(g, xhat, tgx);
            dGamma[j] = Math.fma(d, xhat, dGamma[j]);
            if (dBeta != null) {
                dBeta[j] += d;
            }
        }
        sums[0] = tg;
        sums[1] = tgx;
    }

    @Override
    public void inputGradient(float[] dy, int dyOff, float[] h, int hOff, int c, float mean, float rstd, float[] gamma,
                              int gOff, float a, float b, float[] dSum, int dsOff, float[] dh, int dhOff,
                              float[] dResidual, int drOff, float alpha) {
        FloatVector vb = FloatVector.broadcast(S, b);
        FloatVector vr = FloatVector.broadcast(S, rstd);
        int j = 0;
        for (int bound = S.loopBound(c); j < bound; j += L) {
            FloatVector xhat = FloatVector.fromArray(S, h, hOff + j).sub(mean).mul(rstd);
            FloatVector g = FloatVector.fromArray(S, dy, dyOff + j).mul(FloatVector.fromArray(S, gamma, gOff + j));
            FloatVector t = xhat.neg().fma(vb, g).sub(a);
            FloatVector d = dSum == null ? t.mul(rstd) : t.fma(vr, FloatVector.fromArray(S, dSum, dsOff + j));
            d.intoArray(dh, dhOff + j);
            if (dResidual != null) {
                d.mul(alpha).intoArray(dResidual, drOff + j);
            }
        }
        for (; j < c; j++) {
            float xhat = (h[hOff + j] - mean) * rstd;
            float t = Math.fma(-xhat, b, dy[dyOff + j] * gamma[gOff + j]) - a;
            float d = dSum == null ? t * rstd : Math.fma(t, rstd, dSum[dsOff + j]);
            dh[dhOff + j] = d;
            if (dResidual != null) {
                dResidual[drOff + j] = alpha * d;
            }
        }
    }

    /** The sum of {@code v}'s lanes, added in lane order. */
    private static float total(FloatVector v) {
        float[] lanes = new float[L];
        v.intoArray(lanes, 0);
        float s = 0;
        for (float lane : lanes) {
            s += lane;
        }
        return s;
    }
}
