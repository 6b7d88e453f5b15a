package dev.attn4j.oracle;

import dev.attn4j.ports.attention.FlashMaskForm;

/**
 * FlashMask's {@code startend_row_indices} {@code [B, Hm, Sk, n]}, read exactly as docs/design.md §4 says. For key
 * column {@code j}, with values above {@code Sq} acting as {@code Sq}, query row {@code i} is masked when:
 * <ul>
 *   <li>causal, n = 1 {@code [LTS]}: {@code i >= LTS};</li>
 *   <li>causal, n = 2 {@code [LTS, LTE]}: {@code LTS <= i < LTE};</li>
 *   <li>non-causal, n = 2 {@code [LTS, UTE]}: {@code i >= LTS || i < UTE};</li>
 *   <li>non-causal, n = 4 {@code [LTS, LTE, UTS, UTE]}: {@code LTS <= i < LTE || UTS <= i < UTE}.</li>
 * </ul>
 * (The causal mask itself is applied separately.)
 *
 * <pre>{@code
 * FlashMaskIndices m = new FlashMaskIndices(1, 1, rows);   // causal document mask, one LTS per column
 * boolean masked = m.masks(dims, true, b, h, i, j);
 * }</pre>
 *
 * @param heads Hm, dividing H; query head {@code h} uses mask head {@code h / (H / Hm)}
 * @param n     1, 2 or 4 indices per column
 * @param rows  row-major indices, all {@code >= 0} (not copied)
 */
public record FlashMaskIndices(int heads, int n, int[] rows) {

    /** Checks n and that no index is negative (a negative index is an input error, docs/design.md §4). */
    public FlashMaskIndices {
        if (n != 1 && n != 2 && n != 4) {
            throw new IllegalArgumentException("n must be 1, 2 or 4, got " + n);
        }
        for (int r : rows) {
            if (r < 0) {
                throw new IllegalArgumentException("startend_row_indices must be >= 0, got " + r);
            }
        }
    }

    /**
     * {@return whether the mask sends element {@code (b, h, i, j)} to −∞ under the given {@code causal} flag}
     *
     * @param d D, the head dimension
     * @param causal whether the attention call is causal
     * @param b batch index
     * @param h head index
     * @param i query row index
     * @param j key column index
     */
    public boolean masks(AttentionDims d, boolean causal, int b, int h, int i, int j) {
        // Which (causal, n) pairs exist is ports' rule (FlashMaskForm); what each form means is written out here
        // again, from docs/design.md §4, so that the oracle checks the meaning instead of repeating it.
        FlashMaskForm form = FlashMaskForm.of(causal, n).orElseThrow(() ->
                new IllegalArgumentException("n = " + n + " is not defined with causal = " + causal));
        int mh = h / (d.heads() / heads);
        int base = ((b * heads + mh) * d.seqK() + j) * n;
        int sq = d.seqQ();
        int lts = Math.min(rows[base], sq);
        return switch (form) {
            case CAUSAL_START -> i >= lts;
            case CAUSAL_BAND -> i >= lts && i < Math.min(rows[base + 1], sq);
            case OUTSIDE_BAND -> i >= lts || i < Math.min(rows[base + 1], sq);
            case TWO_BANDS -> {
                int lte = Math.min(rows[base + 1], sq);
                int uts = Math.min(rows[base + 2], sq);
                int ute = Math.min(rows[base + 3], sq);
                yield (i >= lts && i < lte) || (i >= uts && i < ute);
            }
        };
    }
}
