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
    public void residualSum(float[] x, float[] r, float alpha, float[] h, int off, int c) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int j = 0;
        for (int bound = S.loopBound(c); j < bound; j += L) {
            FloatVector.fromArray(S, r, off + j).fma(va, FloatVector.fromArray(S, x, off + j)).intoArray(h, off + j);
        }
        for (; j < c; j++) {
            h[off + j] = Math.fma(alpha, r[off + j], x[off + j]);
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
    public void normalize(float[] h, int off, int c, float mean, float rstd, float[] gamma, float[] beta, float[] y) {
        int j = 0;
        int bound = S.loopBound(c);
        if (beta == null) {
            for (; j < bound; j += L) {
                FloatVector.fromArray(S, h, off + j).sub(mean).mul(rstd).mul(FloatVector.fromArray(S, gamma, j))
                        .intoArray(y, off + j);
            }
            for (; j < c; j++) {
                y[off + j] = (h[off + j] - mean) * rstd * gamma[j];
            }
        } else {
            for (; j < bound; j += L) {
                FloatVector.fromArray(S, h, off + j).sub(mean).mul(rstd)
                        .fma(FloatVector.fromArray(S, gamma, j), FloatVector.fromArray(S, beta, j))
                        .intoArray(y, off + j);
            }
            for (; j < c; j++) {
                y[off + j] = Math.fma((h[off + j] - mean) * rstd, gamma[j], beta[j]);
            }
        }
    }

    @Override
    public void gradientSums(float[] dy, float[] h, int off, int c, float mean, float rstd, float[] gamma,
                             float[] dGamma, float[] dBeta, float[] sums) {
        FloatVector sg = FloatVector.zero(S);
        FloatVector sgx = FloatVector.zero(S);
        int j = 0;
        int bound = S.loopBound(c);
        for (; j < bound; j += L) {
            FloatVector d = FloatVector.fromArray(S, dy, off + j);
            FloatVector xhat = FloatVector.fromArray(S, h, off + j).sub(mean).mul(rstd);
            FloatVector g = d.mul(FloatVector.fromArray(S, gamma, j));
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
            float d = dy[off + j];
            float xhat = (h[off + j] - mean) * rstd;
            float g = d * gamma[j];
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
    public void inputGradient(float[] dy, float[] h, int off, int c, float mean, float rstd, float[] gamma, float a,
                              float b, float[] dSum, float[] dh, float[] dResidual, float alpha) {
        FloatVector vb = FloatVector.broadcast(S, b);
        FloatVector vr = FloatVector.broadcast(S, rstd);
        int j = 0;
        for (int bound = S.loopBound(c); j < bound; j += L) {
            int i = off + j;
            FloatVector xhat = FloatVector.fromArray(S, h, i).sub(mean).mul(rstd);
            FloatVector g = FloatVector.fromArray(S, dy, i).mul(FloatVector.fromArray(S, gamma, j));
            FloatVector t = xhat.neg().fma(vb, g).sub(a);
            FloatVector d = dSum == null ? t.mul(rstd) : t.fma(vr, FloatVector.fromArray(S, dSum, i));
            d.intoArray(dh, i);
            if (dResidual != null) {
                d.mul(alpha).intoArray(dResidual, i);
            }
        }
        for (; j < c; j++) {
            int i = off + j;
            float xhat = (h[i] - mean) * rstd;
            float t = Math.fma(-xhat, b, dy[i] * gamma[j]) - a;
            float d = dSum == null ? t * rstd : Math.fma(t, rstd, dSum[i]);
            dh[i] = d;
            if (dResidual != null) {
                dResidual[i] = alpha * d;
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
