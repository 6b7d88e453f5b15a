package dev.attn4j.backend.cpu;

/**
 * Row kernels of LayerNorm and RMSNorm, one row of {@code c} floats. Every array comes with its own offset
 * (the row's first element in it; for γ and β, the tensor's first element), because any input may be a view
 * into a larger array ({@link Span}). Two twins
 * implement it: {@link ScalarNormKernels} and {@link VectorNormKernels}. Their elementwise results are
 * bit-identical (both use the same fused multiply-adds); their sums differ only by fp32 summation order.
 *
 * <p>RMSNorm is LayerNorm with a mean of exactly 0 (subtracting 0 is exact), so the elementwise kernels
 * serve both; only the statistics differ ({@link #centredSquares} for LayerNorm, {@link #squares} for
 * RMSNorm). Notation: {@code x̂ = (h - mean)·rstd}, {@code g = dy·γ}.
 */
interface CpuNormKernels {

    /** {@code h = α·r + x}, as {@code fma(α, r, x)}. */
    void residualSum(float[] x, int xOff, float[] r, int rOff, float alpha, float[] h, int hOff, int c);

    /**
     * {@code Σ (a - shift)}. With {@code shift} one of the row's own values, the terms are deviations,
     * small and exactly formed when the row sits far from zero, so their sum keeps the digits a plain
     * {@code Σ a} would round away.
     */
    float sumAbout(float[] a, int off, int c, float shift);

    /**
     * {@code Σ (a - centre)² - (Σ (a - centre))² / c}: the corrected two-pass sum of squared deviations,
     * whose second term cancels most of the rounding error left in {@code centre}.
     */
    float centredSquares(float[] a, int off, int c, float centre);

    /** {@code Σ a²}. */
    float squares(float[] a, int off, int c);

    /** {@code y = fma(x̂, γ, β)}, or {@code x̂·γ} when {@code beta} is {@code null}. */
    void normalize(float[] h, int hOff, int c, float mean, float rstd, float[] gamma, int gOff, float[] beta, int bOff,
                   float[] y, int yOff);

    /**
     * First backward pass over a row: {@code sums[0] = Σ g}, {@code sums[1] = Σ g·x̂}; and accumulates
     * {@code dGamma[j] += dy·x̂}, {@code dBeta[j] += dy} (when {@code dBeta} is not {@code null}), indexed
     * from 0 (they are the caller's own partial sums).
     */
    void gradientSums(float[] dy, int dyOff, float[] h, int hOff, int c, float mean, float rstd, float[] gamma,
                      int gOff, float[] dGamma, float[] dBeta, float[] sums);

    /**
     * Second backward pass: {@code dh = (g - x̂·b - a)·rstd (+ dSum)}, with {@code a = mean(g)} (0 for
     * RMSNorm) and {@code b = mean(g·x̂)}; and {@code dResidual = α·dh} when {@code dResidual} is not
     * {@code null}. {@code dSum} may be {@code null}.
     */
    void inputGradient(float[] dy, int dyOff, float[] h, int hOff, int c, float mean, float rstd, float[] gamma,
                       int gOff, float a, float b, float[] dSum, int dsOff, float[] dh, int dhOff, float[] dResidual,
                       int drOff, float alpha);
}
