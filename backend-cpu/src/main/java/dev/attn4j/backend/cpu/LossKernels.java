package dev.attn4j.backend.cpu;

/**
 * Column loops of the fused cross-entropy ({@link CpuLoss}) over one row of its transposed logits {@code [V, rows]}:
 * a row holds one vocabulary entry's logits for every token of the chunk, so a token's softmax runs down a column
 * and these loops work on all the chunk's tokens at once, element {@code i} of a row with element {@code i} of the
 * per-token arrays. Two twins, {@link ScalarLossKernels} and {@link VectorLossKernels}, give the same bits: every
 * step is per element (no reduction across elements), the maximum is {@link Math#max}'s and the exponential
 * {@link Exp}'s.
 */
interface LossKernels {

    /** The twin to use in this JVM ({@link CpuKernels} chooses it). */
    static LossKernels get() {
        return CpuKernels.selected().loss();
    }

    /**
     * {@code z[i] += bias} (only when {@code addBias}), then {@code max[i] = Math.max(max[i], z[i])}, for
     * {@code i < n}.
     */
    void biasMax(float[] z, int zOff, int n, boolean addBias, float bias, float[] max, int maxOff);

    /**
     * {@code z[i] = exp(z[i] − shift[i])} ({@link Exp#exp}), in place, then {@code sum[i] += z[i]}, for
     * {@code i < n}.
     */
    void expSum(float[] z, int zOff, int n, float[] shift, int shiftOff, float[] sum, int sumOff);

    /** {@code z[i] = z[i] · factor[i]}, in place, for {@code i < n}. */
    void scale(float[] z, int zOff, int n, float[] factor, int factorOff);
}
