package dev.attn4j.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link ScalarElementwiseKernels}; only loaded when {@link Simd#available()}. The element-wise
 * loops are the scalar twin's fused multiply-adds lane by lane. {@link #dot} widens floats to double lanes
 * ({@code DL} of them per vector: 8 with AVX-512, 4 with AVX2) and keeps {@link #DOT_LANES} partial sums in
 * {@code DOT_LANES / DL} accumulators, so element {@code i} lands in sum {@code i % DOT_LANES} whatever the
 * vector width, exactly as in the scalar twin.
 */
final class VectorElementwiseKernels implements ElementwiseKernels {
    private static final VectorSpecies<Float> F = VectorTileMath.species();
    private static final int L = F.length();
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED.length() <= 8
            ? DoubleVector.SPECIES_PREFERRED : DoubleVector.SPECIES_512;
    private static final int DL = D.length();
    /** Floats widened into one double vector: as many lanes as {@link #D}. */
    private static final VectorSpecies<Float> FD = VectorSpecies.of(float.class, VectorShape.forBitSize(DL * Float.SIZE));

    private VectorElementwiseKernels() {
    }

    /** A new instance, typed as the interface so callers never link this class unless they run it. */
    static ElementwiseKernels create() {
        return new VectorElementwiseKernels();
    }

    private static DoubleVector wide(float[] a, int at) {
        return (DoubleVector) FloatVector.fromArray(FD, a, at).convertShape(VectorOperators.F2D, D, 0);
    }

    @Override
    public void add(float[] a, int aOff, float[] b, int bOff, float alpha, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, b, bOff + i).fma(FloatVector.broadcast(F, alpha), FloatVector.fromArray(F, a, aOff + i)).intoArray(y, yOff + i);
        }
        ScalarElementwiseKernels.addFrom(a, aOff, b, bOff, alpha, y, yOff, i, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(FloatVector.broadcast(F, alpha), FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        ScalarElementwiseKernels.axpyFrom(alpha, x, xOff, y, yOff, i, n);
    }

    @Override
    public void scale(float[] x, int xOff, float alpha, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, x, xOff + i).mul(alpha).intoArray(y, yOff + i);
        }
        ScalarElementwiseKernels.scaleFrom(x, xOff, alpha, y, yOff, i, n);
    }

    @Override
    public void multiply(float[] x, int xOff, float[] v, int vOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, x, xOff + i).mul(FloatVector.fromArray(F, v, vOff + i)).intoArray(y, yOff + i);
        }
        ScalarElementwiseKernels.multiplyFrom(x, xOff, v, vOff, y, yOff, i, n);
    }

    @Override
    public double dot(float[] a, int aOff, float[] b, int bOff, int n) {
        double[] lanes = new double[DOT_LANES];
        int i = 0;
        int bound = n - n % DOT_LANES;
        if (DL == 8) {
            DoubleVector s0 = DoubleVector.zero(D);
            DoubleVector s1 = DoubleVector.zero(D);
            for (; i < bound; i += DOT_LANES) {
                s0 = wide(a, aOff + i).fma(wide(b, bOff + i), s0);
                s1 = wide(a, aOff + i + 8).fma(wide(b, bOff + i + 8), s1);
            }
            s0.intoArray(lanes, 0);
            s1.intoArray(lanes, 8);
        } else if (DL == 4) {
            DoubleVector s0 = DoubleVector.zero(D);
            DoubleVector s1 = DoubleVector.zero(D);
            DoubleVector s2 = DoubleVector.zero(D);
            DoubleVector s3 = DoubleVector.zero(D);
            for (; i < bound; i += DOT_LANES) {
                s0 = wide(a, aOff + i).fma(wide(b, bOff + i), s0);
                s1 = wide(a, aOff + i + 4).fma(wide(b, bOff + i + 4), s1);
                s2 = wide(a, aOff + i + 8).fma(wide(b, bOff + i + 8), s2);
                s3 = wide(a, aOff + i + 12).fma(wide(b, bOff + i + 12), s3);
            }
            s0.intoArray(lanes, 0);
            s1.intoArray(lanes, 4);
            s2.intoArray(lanes, 8);
            s3.intoArray(lanes, 12);
        }
        // Other widths (none on x86-64 with AVX2 or AVX-512) and the tail: the scalar twin's loop, same lanes.
        ScalarElementwiseKernels.dotFrom(a, aOff, b, bOff, i, n, lanes);
        return ScalarElementwiseKernels.total(lanes);
    }

    @Override
    public void accumulateProducts(float[] a, int aOff, float[] b, int bOff, double[] acc, int accOff, int n) {
        int i = 0;
        for (int bound = n - n % DL; i < bound; i += DL) {
            wide(a, aOff + i).fma(wide(b, bOff + i), DoubleVector.fromArray(D, acc, accOff + i)).intoArray(acc, accOff + i);
        }
        ScalarElementwiseKernels.accumulateFrom(a, aOff, b, bOff, acc, accOff, i, n);
    }

    @Override
    public void adamW(AdamWStep s, float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff,
                      int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector grad = FloatVector.fromArray(F, g, gOff + i).mul(s.clip());
            FloatVector param = FloatVector.fromArray(F, p, pOff + i).mul(s.decay());
            FloatVector mi = grad.fma(FloatVector.broadcast(F, s.oneMinusBeta1()), FloatVector.fromArray(F, m, mOff + i).mul(s.beta1()));
            FloatVector vi = grad.mul(s.oneMinusBeta2()).fma(grad, FloatVector.fromArray(F, v, vOff + i).mul(s.beta2()));
            FloatVector denom = vi.sqrt().div(s.bc2Sqrt()).add(s.eps());
            mi.div(denom).fma(FloatVector.broadcast(F, s.negStepSize()), param).intoArray(p, pOff + i);
            mi.intoArray(m, mOff + i);
            vi.intoArray(v, vOff + i);
        }
        ScalarElementwiseKernels.adamWFrom(s, p, pOff, g, gOff, m, mOff, v, vOff, i, n);
    }
}
