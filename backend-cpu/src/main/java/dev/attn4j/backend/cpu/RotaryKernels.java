package dev.attn4j.backend.cpu;

/**
 * Row kernels of rotary / xPos: one head of {@code R} rotated features, read from {@code x} at {@code xOff} and
 * written to {@code y} at {@code yOff} (separate offsets: {@code x} may be a view into a larger array). Every
 * output is {@code y[j] = x[j]·α[j] + x[partner(j)]·β[j]}, with the per-position coefficients
 * {@code α, β} laid out in the feature order (see {@link CpuRotary#coefficients}). Two twins implement it,
 * {@link ScalarRotaryKernels} and {@link VectorRotaryKernels}; they evaluate that one expression with the
 * same roundings, so their results are bit-identical.
 */
interface RotaryKernels {

    /** Pairs {@code (2p, 2p + 1)}. */
    void interleaved(float[] x, int xOff, float[] y, int yOff, int r, float[] alpha, float[] beta);

    /** Pairs {@code (p, p + R/2)}. */
    void splitHalf(float[] x, int xOff, float[] y, int yOff, int r, float[] alpha, float[] beta);
}
