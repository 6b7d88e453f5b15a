package dev.attn4j.backend.cpu;

/**
 * The arithmetic inside a tile, in two twins: {@link VectorTileMath} (JDK Vector API) and
 * {@link ScalarTileMath} (plain loops, used when {@code jdk.incubator.vector} is not readable). The
 * tiling, masking and online-softmax bookkeeping live once, in the kernels that call these.
 *
 * <p>All matrices are row-major {@code float[]} regions. Column counts handed to {@link #gemm} are
 * multiples of {@link #LANES}: packed tiles are zero-padded to it, so neither twin needs tail code in its
 * innermost loop.
 */
interface TileMath {

    /** Padding unit of packed tiles' inner dimension (16 floats: one AVX-512 register). */
    int LANES = 16;

    /** The twin to use in this JVM ({@link CpuKernels} chooses it). */
    static TileMath get() {
        return CpuKernels.selected().tileMath();
    }

    /** {@code x} rounded up to a multiple of {@link #LANES}. */
    static int padded(int x) {
        return (x + LANES - 1) / LANES * LANES;
    }

    /**
     * {@code C[m×n] (+)= A[m×k] · B[k×n]}, with {@code A[i][p] = a[aOff + i·ars + p·acs]} (so a transposed
     * operand is just swapped strides), {@code B[p][j] = b[bOff + p·ldb + j]},
     * {@code C[i][j] = c[cOff + i·ldc + j]}. {@code n} must be a multiple of {@link #LANES}.
     *
     * @param accumulate add to {@code C} when true, overwrite it when false
     */
    void gemm(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
              float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate);

    /** Floats of scratch {@link #dotRows} needs: the slots of {@link #DOT_ROWS} dot products. */
    int DOT_SCRATCH = 4 * LANES;

    /** Rows of the stored matrix {@link #dotRows} reads together (their dot products share each load of A). */
    int DOT_ROWS = 4;

    /**
     * {@code C[i][j] = (accumulate ? C[i][j] : 0) + alpha·dot(A_i, W_j)} for {@code i < m}, {@code j < n}: a
     * product of few rows against a matrix stored transposed and read where it is (a linear layer at decode,
     * {@code x·Wᵀ} with {@code W [n×k]} row-major), with {@code A_i = a[aOff + i·lda ..][0..k)} and
     * {@code W_j = w[wOff + j·ldw ..][0..k)} both contiguous.
     *
     * <p>The dot product is defined, and both twins compute it, as {@link #LANES} slots, slot {@code s} one fma
     * chain over the steps {@code p ≡ s (mod LANES)} in order, then the slots summed in slot order
     * ({@link #total}), then multiplied by {@code alpha}. That is a different order from {@link #gemm}'s one chain
     * per element, which would need {@code W} transposed first: measured 7-15 times slower for one row, as it
     * copies the whole weight matrix to read it once (see {@link CpuGemm}).
     *
     * @param scratch at least {@link #DOT_SCRATCH} floats, overwritten
     */
    void dotRows(float[] a, int aOff, int lda, float[] w, int wOff, int ldw, float alpha,
                 float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate, float[] scratch);

    /**
     * The end of a {@link #dotRows} element, shared by the twins: steps {@code k0..k} (fewer than {@link #LANES})
     * continue slots {@code slots[off ..]}, which are then summed in order, scaled and stored.
     */
    static void finishDot(float[] a, int ai, float[] w, int wj, int k0, int k, float[] slots, int off,
                          float alpha, float[] c, int ci, boolean accumulate) {
        for (int p = k0; p < k; p++) {
            slots[off + p - k0] = Math.fma(a[ai + p], w[wj + p], slots[off + p - k0]);
        }
        float v = alpha * total(slots, off);
        c[ci] = accumulate ? c[ci] + v : v;
    }

    /** Largest of {@code x[off .. off+n)} ({@code n} a multiple of {@link #LANES}). */
    float max(float[] x, int off, int n);

    /**
     * Replaces {@code x[off .. off+n)} by {@code exp(x - shift)} ({@code n} a multiple of {@link #LANES}) and
     * adds them into the {@link #LANES} partial sums at {@code sums[sumOff ..]}, after scaling those by
     * {@code decay}: element {@code off + i} goes to slot {@code i % LANES}. Entries equal to −∞ become 0.
     * Keeping the row sum as partial sums across tiles avoids a cross-lane reduction per row and tile;
     * {@link #total} reduces them once, in slot order.
     */
    void expShiftAccumulate(float[] x, int off, int n, float shift, float[] sums, int sumOff, float decay);

    /**
     * The online-softmax update of a tile of scores (FlashAttention's): rows {@code 0..rows} of {@code s} (row
     * stride {@code ld}, {@code n} columns, a multiple of {@link #LANES}) against each row's running maximum
     * {@code m[r]}, its {@link #LANES} partial sums {@code l[r·LANES ..]} and its output row
     * {@code acc[r·accLd .. r·accLd + accLd)} ({@code accLd} a multiple of {@link #LANES}). Per row, with
     * {@code m' = max(m, max s)}: where {@code m'} is −∞ (the row has seen nothing) the scores become 0 and nothing
     * else changes; otherwise, where {@code m} was finite and differs from {@code m'}, {@code acc} and {@code l}
     * are scaled by {@code exp(m − m')} ({@link Exp#exp}), then the scores become {@code exp(s − m')} and are added
     * into {@code l} ({@link #expShiftAccumulate}), and {@code m = m'}. {@code mNew} is scratch of at least
     * {@code rows} floats.
     *
     * <p>One method rather than a loop of the calls above in the kernel, so that the vector twin can keep it out of
     * the kernel's compilation (see {@link VectorTileMath}).
     */
    void onlineSoftmax(float[] s, int ld, int rows, int n, float[] m, float[] mNew, float[] l, float[] acc, int accLd);

    /** Replaces {@code x[off .. off+n)} by {@code exp(x - shift)} ({@code n} a multiple of {@link #LANES}). */
    void expShift(float[] x, int off, int n, float shift);

    /** The sum of the {@link #LANES} partial sums at {@code sums[off ..]}, in slot order. */
    static float total(float[] sums, int off) {
        float t = 0f;
        for (int i = 0; i < LANES; i++) {
            t += sums[off + i];
        }
        return t;
    }

    /** {@code x[off .. off+n) *= factor} ({@code n} a multiple of {@link #LANES}). */
    void scale(float[] x, int off, int n, float factor);

    /** {@code ds[i] = p[i] · (dp[i] − d)} over {@code [off, off+n)}, in place in {@code dp} ({@code n} a multiple of {@link #LANES}). */
    void softmaxGrad(float[] p, float[] dp, int off, int n, float d);
}
