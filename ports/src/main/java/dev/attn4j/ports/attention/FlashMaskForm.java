package dev.attn4j.ports.attention;

import dev.attn4j.ports.InvalidRequestException;

import java.util.Optional;

/**
 * The four forms of FlashMask's {@code startend_row_indices [B, Hm, Sk, n]} (docs/design.md §4): which {@code (causal, n)}
 * pairs exist and what the {@code n} values of a column mean. This is the one place that rule is written; the
 * attention port's validation, the domain's masks and the oracle all ask it. For key column {@code j}, with values
 * above {@code Sq} acting as {@code Sq}, query row {@code i} is masked when:
 * <ul>
 *   <li>{@link #CAUSAL_START} (causal, n = 1, {@code [LTS]}): {@code i >= LTS};</li>
 *   <li>{@link #CAUSAL_BAND} (causal, n = 2, {@code [LTS, LTE]}): {@code LTS <= i < LTE};</li>
 *   <li>{@link #OUTSIDE_BAND} (non-causal, n = 2, {@code [LTS, UTE]}): {@code i >= LTS || i < UTE};</li>
 *   <li>{@link #TWO_BANDS} (non-causal, n = 4, {@code [LTS, LTE, UTS, UTE]}):
 *       {@code LTS <= i < LTE || UTS <= i < UTE}.</li>
 * </ul>
 *
 * <pre>{@code
 * FlashMaskForm form = FlashMaskForm.requireFlag(options.causal(), mask.shape().dim(3));
 * boolean masked = form.masks(i, rows, ((b * hm + h) * sk + j) * form.n());   // key j's column of [B, Hm, Sk, n]
 * }</pre>
 */
public enum FlashMaskForm {
    /** Causal, {@code n = 1}: {@code [LTS]}, rows {@code >= LTS} masked (a causal document mask). */
    CAUSAL_START(true, 1, "[LTS]"),
    /** Causal, {@code n = 2}: {@code [LTS, LTE]}, rows in {@code [LTS, LTE)} masked. */
    CAUSAL_BAND(true, 2, "[LTS, LTE]"),
    /** Non-causal, {@code n = 2}: {@code [LTS, UTE]}, rows {@code >= LTS} or {@code < UTE} masked. */
    OUTSIDE_BAND(false, 2, "[LTS, UTE]"),
    /** Non-causal, {@code n = 4}: {@code [LTS, LTE, UTS, UTE]}, rows in {@code [LTS, LTE) ∪ [UTS, UTE)} masked. */
    TWO_BANDS(false, 4, "[LTS, LTE, UTS, UTE]");

    private final boolean causal;
    private final int n;
    private final String layout;

    FlashMaskForm(boolean causal, int n, String layout) {
        this.causal = causal;
        this.n = n;
        this.layout = layout;
    }

    /** {@return whether the form goes with {@code causal=true}} */
    public boolean causal() {
        return causal;
    }

    /** {@return values per column} */
    public int n() {
        return n;
    }

    /** {@return the column's values by name, e.g. {@code [LTS, UTE]}} */
    public String layout() {
        return layout;
    }

    /**
     * {@return the form of {@code (causal, n)}, or empty when that pair is not a FlashMask form}
     *
     * @param causal the causal flag
     * @param n      values per column
     */
    public static Optional<FlashMaskForm> of(boolean causal, int n) {
        for (FlashMaskForm f : values()) {
            if (f.causal == causal && f.n == n) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /**
     * The form of a mask built with both its {@code causal} flag and its {@code n}: a pair that is no form is the
     * mask's {@code n}'s error.
     *
     * @param argument the name the caller knows {@code n} by, for the error
     * @param causal   the flag the mask is for
     * @param n        values per column
     * @return the form
     * @throws InvalidRequestException naming {@code argument} when {@code n} is not 1, 2 or 4, or does not go with
     *                                 {@code causal} (n = 1 is only causal, n = 4 only non-causal)
     */
    public static FlashMaskForm require(String argument, boolean causal, int n) {
        InvalidRequestException.check(n == 1 || n == 2 || n == 4, argument, "n in {1, 2, 4}", n);
        InvalidRequestException.check(!(causal && n == 4), argument,
                "n in {1, 2} with causal=true (n = 4 is the non-causal form)", n);
        InvalidRequestException.check(!(!causal && n == 1), argument,
                "n in {2, 4} with causal=false (n = 1 is the causal form)", n);
        return of(causal, n).orElseThrow();
    }

    /**
     * The form of an attention call's {@code flashMask} (whose last dimension is {@code n}) under the call's
     * {@code causal} flag. The mask's {@code n} says which flag it was made for (n = 1 only causal, n = 4 only not), so
     * a mismatch is almost always a forgotten {@code causal(mask.causal())}: the error names the flag to pass.
     *
     * @param causal the call's flag
     * @param n      the mask's values per column
     * @return the form
     * @throws InvalidRequestException naming {@code flashMask} when {@code n} is not 1, 2 or 4, and {@code causal}
     *                                 when the flag does not go with {@code n}
     */
    public static FlashMaskForm requireFlag(boolean causal, int n) {
        InvalidRequestException.check(n == 1 || n == 2 || n == 4, "flashMask", "n in {1, 2, 4}", n);
        InvalidRequestException.check(!(causal && n == 4), "causal",
                "false for a FlashMask with n = 4 (" + TWO_BANDS.layout + ", the non-causal form)",
                "true (this mask is not causal: pass causal=false)");
        InvalidRequestException.check(!(!causal && n == 1), "causal",
                "true for a FlashMask with n = 1 (" + CAUSAL_START.layout + ", the causal form)",
                "false (this mask is causal: pass causal=true)");
        return of(causal, n).orElseThrow();
    }

    /**
     * Whether row {@code i} is masked by a column's values.
     *
     * @param i      the query row, {@code 0 <= i < Sq}
     * @param column the column's {@link #n()} values from {@code offset}; values above {@code Sq} may be passed as
     *               they are (for {@code 0 <= i < Sq} they mask exactly as {@code Sq} would)
     * @param offset where the column starts in {@code column}
     * @return whether the row is masked
     */
    public boolean masks(int i, int[] column, int offset) {
        return switch (this) {
            case CAUSAL_START -> i >= column[offset];
            case CAUSAL_BAND -> i >= column[offset] && i < column[offset + 1];
            case OUTSIDE_BAND -> i >= column[offset] || i < column[offset + 1];
            case TWO_BANDS -> (i >= column[offset] && i < column[offset + 1])
                    || (i >= column[offset + 2] && i < column[offset + 3]);
        };
    }
}
