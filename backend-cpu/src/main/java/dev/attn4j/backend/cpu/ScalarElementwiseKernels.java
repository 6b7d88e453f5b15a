package dev.attn4j.backend.cpu;

/** The plain-Java twin of {@link VectorElementwiseKernels}; its {@code ...From} forms finish the vector twin's tails. */
final class ScalarElementwiseKernels implements ElementwiseKernels {
    static final ScalarElementwiseKernels INSTANCE = new ScalarElementwiseKernels();

    private ScalarElementwiseKernels() {
    }

    @Override
    public void add(float[] a, int aOff, float[] b, int bOff, float alpha, float[] y, int yOff, int n) {
        addFrom(a, aOff, b, bOff, alpha, y, yOff, 0, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        axpyFrom(alpha, x, xOff, y, yOff, 0, n);
    }

    @Override
    public void scale(float[] x, int xOff, float alpha, float[] y, int yOff, int n) {
        scaleFrom(x, xOff, alpha, y, yOff, 0, n);
    }

    @Override
    public void multiply(float[] x, int xOff, float[] v, int vOff, float[] y, int yOff, int n) {
        multiplyFrom(x, xOff, v, vOff, y, yOff, 0, n);
    }

    @Override
    public double dot(float[] a, int aOff, float[] b, int bOff, int n) {
        double[] lanes = new double[DOT_LANES];
        dotFrom(a, aOff, b, bOff, 0, n, lanes);
        return total(lanes);
    }

    @Override
    public void accumulateProducts(float[] a, int aOff, float[] b, int bOff, double[] acc, int accOff, int n) {
        accumulateFrom(a, aOff, b, bOff, acc, accOff, 0, n);
    }

    @Override
    public void adamW(AdamWStep s, float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff,
                      int n) {
        adamWFrom(s, p, pOff, g, gOff, m, mOff, v, vOff, 0, n);
    }

    static void addFrom(float[] a, int aOff, float[] b, int bOff, float alpha, float[] y, int yOff, int i0, int n) {
        for (int i = i0; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, b[bOff + i], a[aOff + i]);
        }
    }

    static void axpyFrom(float alpha, float[] x, int xOff, float[] y, int yOff, int i0, int n) {
        for (int i = i0; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        }
    }

    static void scaleFrom(float[] x, int xOff, float alpha, float[] y, int yOff, int i0, int n) {
        for (int i = i0; i < n; i++) {
            y[yOff + i] = x[xOff + i] * alpha;
        }
    }

    static void multiplyFrom(float[] x, int xOff, float[] v, int vOff, float[] y, int yOff, int i0, int n) {
        for (int i = i0; i < n; i++) {
            y[yOff + i] = x[xOff + i] * v[vOff + i];
        }
    }

    /** Adds {@code a[i]·b[i]} for {@code i} in {@code [i0, n)} into {@code lanes[i % DOT_LANES]}. */
    static void dotFrom(float[] a, int aOff, float[] b, int bOff, int i0, int n, double[] lanes) {
        for (int i = i0; i < n; i++) {
            int lane = i % DOT_LANES;
            lanes[lane] = Math.fma((double) a[aOff + i], b[bOff + i], lanes[lane]);
        }
    }

    /** The partial sums added in lane order. */
    static double total(double[] lanes) {
        double t = 0;
        for (double lane : lanes) {
            t += lane;
        }
        return t;
    }

    static void accumulateFrom(float[] a, int aOff, float[] b, int bOff, double[] acc, int accOff, int i0, int n) {
        for (int i = i0; i < n; i++) {
            acc[accOff + i] = Math.fma((double) a[aOff + i], b[bOff + i], acc[accOff + i]);
        }
    }

    static void adamWFrom(AdamWStep s, float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v,
                          int vOff, int i0, int n) {
        for (int i = i0; i < n; i++) {
            float grad = g[gOff + i] * s.clip();
            float param = p[pOff + i] * s.decay();
            float mi = Math.fma(s.oneMinusBeta1(), grad, s.beta1() * m[mOff + i]);
            float vi = Math.fma(s.oneMinusBeta2() * grad, grad, s.beta2() * v[vOff + i]);
            float denom = (float) Math.sqrt(vi) / s.bc2Sqrt() + s.eps();
            p[pOff + i] = Math.fma(s.negStepSize(), mi / denom, param);
            m[mOff + i] = mi;
            v[vOff + i] = vi;
        }
    }
}
