package dev.attn4j.oracle;

import dev.attn4j.ports.attention.Dropout;

/**
 * Everything the oracle needs for one attention call, on the host, in the layouts of docs/design.md §3–4. Arrays
 * are not copied (the oracle never writes them). Optional parts are {@code null} when absent.
 *
 * <pre>{@code
 * AttentionProblem p = AttentionProblem.plain(dims, q, k, v, 1 / Math.sqrt(dims.headDim()), true);
 * AttentionOutputs out = AttentionOracle.forward(p, Precision.FP64);
 * }</pre>
 *
 * @param dims        sizes
 * @param q           {@code [B, Sq, H, D]}
 * @param k           {@code [B, Sk, Hkv, D]}
 * @param v           {@code [B, Sk, Hkv, D]}
 * @param scale       softmax scale (already resolved: {@code 1/sqrt(D)} when the caller gave none)
 * @param causal      bottom-right causal mask
 * @param windowLeft  −1 = unbounded
 * @param windowRight −1 = unbounded
 * @param softcap     0 = off
 * @param alibiSlopes {@code [H]} or {@code [B, H]}, or {@code null}
 * @param biasTable   {@code [H, Sq + Sk - 1]}, or {@code null}
 * @param denseBias   dense additive bias, or {@code null}
 * @param flashMask   FlashMask indices, or {@code null}
 * @param denseMask   dense boolean mask, or {@code null}
 * @param dropout     dropout ({@link Dropout#NONE} for none)
 */
public record AttentionProblem(AttentionDims dims, double[] q, double[] k, double[] v, double scale, boolean causal,
                               int windowLeft, int windowRight, double softcap, double[] alibiSlopes,
                               double[] biasTable, DenseBias denseBias, FlashMaskIndices flashMask, DenseMaskFlags denseMask,
                               Dropout dropout) {

    /** Checks array lengths against the sizes. */
    public AttentionProblem {
        requireLength("q", q, dims.querySize());
        requireLength("k", k, dims.keySize());
        requireLength("v", v, dims.keySize());
        if (alibiSlopes != null && alibiSlopes.length != dims.heads()
                && alibiSlopes.length != dims.batch() * dims.heads()) {
            throw new IllegalArgumentException("alibiSlopes: expected " + dims.heads() + " or "
                    + dims.batch() * dims.heads() + " values, got " + alibiSlopes.length);
        }
        if (biasTable != null) {
            requireLength("biasTable", biasTable, dims.heads() * dims.tableWidth());
        }
        if (dropout == null) {
            dropout = Dropout.NONE;
        }
    }

    /**
     * {@return plain attention: no bias, no window, no dropout}
     *
     * @param dims sizes
     * @param q {@code [B, Sq, H, D]}
     * @param k {@code [B, Sk, Hkv, D]}
     * @param v {@code [B, Sk, Hkv, D]}
     * @param scale softmax scale (already resolved: {@code 1/sqrt(D)} when the caller gave none)
     * @param causal bottom-right causal mask
     */
    public static AttentionProblem plain(AttentionDims dims, double[] q, double[] k, double[] v, double scale,
                                         boolean causal) {
        return new AttentionProblem(dims, q, k, v, scale, causal, -1, -1, 0, null, null, null, null, null, Dropout.NONE);
    }

    /**
     * {@return this problem with other {@code q, k, v} (used by finite differences)}
     *
     * @param q {@code [B, Sq, H, D]}
     * @param k {@code [B, Sk, Hkv, D]}
     * @param v {@code [B, Sk, Hkv, D]}
     */
    public AttentionProblem withInputs(double[] q, double[] k, double[] v) {
        return new AttentionProblem(dims, q, k, v, scale, causal, windowLeft, windowRight, softcap, alibiSlopes,
                biasTable, denseBias, flashMask, denseMask, dropout);
    }

    /**
     * {@return this problem with another bias table (used by finite differences)}
     *
     * @param table the relative-position table
     */
    public AttentionProblem withBiasTable(double[] table) {
        return new AttentionProblem(dims, q, k, v, scale, causal, windowLeft, windowRight, softcap, alibiSlopes,
                table, denseBias, flashMask, denseMask, dropout);
    }

    /**
     * {@return whether element {@code (b, h, i, j)} is sent to −∞ by any mask of docs/design.md §4 step 4}
     *
     * @param b batch index
     * @param h head index
     * @param i query row index
     * @param j key column index
     */
    public boolean masked(int b, int h, int i, int j) {
        // In long: a window near Integer.MAX_VALUE must not wrap round (the oracle takes any valid window).
        long diag = (long) i + dims.offset();
        if (causal && j > diag) {
            return true;
        }
        if (windowLeft >= 0 && j < diag - windowLeft) {
            return true;
        }
        if (windowRight >= 0 && j > diag + windowRight) {
            return true;
        }
        if (flashMask != null && flashMask.masks(dims, causal, b, h, i, j)) {
            return true;
        }
        return denseMask != null && !denseMask.allows(dims, b, h, i, j);
    }

    /**
     * {@return the ALiBi slope of head {@code h} in batch row {@code b} (0 without ALiBi)}
     *
     * @param b batch index
     * @param h head index
     */
    public double slope(int b, int h) {
        if (alibiSlopes == null) {
            return 0;
        }
        return alibiSlopes.length == dims.heads() ? alibiSlopes[h] : alibiSlopes[b * dims.heads() + h];
    }

    private static void requireLength(String name, double[] a, int expected) {
        if (a == null || a.length != expected) {
            throw new IllegalArgumentException(name + ": expected " + expected + " values, got "
                    + (a == null ? "null" : a.length));
        }
    }
}
