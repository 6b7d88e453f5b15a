package dev.attn4j.backend.cpu;

/**
 * Element loops of the element-wise and optimizer ports over {@code n} consecutive floats, each array with its own
 * offset (any may be a view, {@link Span}). Two twins implement it, {@link ScalarElementwiseKernels} and
 * {@link VectorElementwiseKernels}, with bit-identical results: the element-wise loops use the same fused
 * multiply-adds, and the one reduction, {@link #dot}, keeps {@link #DOT_LANES} partial sums in double whatever the
 * vector width and adds them in lane order.
 */
interface ElementwiseKernels {

    /** Partial sums of {@link #dot}: element {@code i} of a call goes to sum {@code i % DOT_LANES}. */
    int DOT_LANES = 16;

    /** The twin to use in this JVM ({@link CpuKernels} chooses it). */
    static ElementwiseKernels get() {
        return CpuKernels.selected().elementwise();
    }

    /** {@code y = fma(alpha, b, a)}: {@code a + alpha·b} rounded once. */
    void add(float[] a, int aOff, float[] b, int bOff, float alpha, float[] y, int yOff, int n);

    /** {@code y = fma(alpha, x, y)}; {@code x} and {@code y} may be the same elements. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** {@code y = x·alpha}; may be in place. */
    void scale(float[] x, int xOff, float alpha, float[] y, int yOff, int n);

    /** {@code y = x·v}, element by element. */
    void multiply(float[] x, int xOff, float[] v, int vOff, float[] y, int yOff, int n);

    /**
     * {@code Σ a·b} in double: each product is exact in double, added with one rounding into partial sum
     * {@code i % DOT_LANES}; the partial sums are then added in lane order.
     */
    double dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code acc[j] += a[j]·b[j]} in double (the product is exact, the sum rounds once). */
    void accumulateProducts(float[] a, int aOff, float[] b, int bOff, double[] acc, int accOff, int n);

    /** One AdamW step over {@code n} elements (see {@link AdamWStep} for the formulas). */
    void adamW(AdamWStep s, float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff, int n);

    /**
     * The per-call constants of one AdamW step, computed once per call in double (as PyTorch does in Python) and
     * rounded to float. Per element, in fp32: {@code g ← grad·clip}, {@code p ← p·decay},
     * {@code m ← fma(1 − β₁, g, β₁·m)}, {@code v ← fma((1 − β₂)·g, g, β₂·v)},
     * {@code p ← fma(−stepSize, m / (√v / bc2Sqrt + ε), p)}.
     *
     * @param clip           the gradient factor {@code min(1, maxNorm / (√ss + 1e-6))}, 1 without clipping
     * @param decay          {@code 1 − lr·wd}
     * @param beta1          β₁
     * @param oneMinusBeta1  {@code 1 − β₁}
     * @param beta2          β₂
     * @param oneMinusBeta2  {@code 1 − β₂}
     * @param negStepSize    {@code −lr / (1 − β₁ᵗ)}
     * @param bc2Sqrt        {@code √(1 − β₂ᵗ)}
     * @param eps            ε
     */
    record AdamWStep(float clip, float decay, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                     float negStepSize, float bc2Sqrt, float eps) {
    }
}
