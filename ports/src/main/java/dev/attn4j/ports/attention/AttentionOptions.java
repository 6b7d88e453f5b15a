package dev.attn4j.ports.attention;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Everything about an attention call except its {@code q, k, v}: scale, masks, position biases, softcap,
 * dropout and backward options. Semantics are docs/design.md §4, with {@code off = Sk - Sq} (bottom-right
 * alignment) and query row {@code i}, key column {@code j}:
 * <ol>
 *   <li>{@code s = scale · q_i · k_j}; {@code scale} defaults to {@code 1/sqrt(D)};</li>
 *   <li>softcap {@code c > 0}: {@code s = c · tanh(s / c)};</li>
 *   <li>biases, added together when several are given: ALiBi {@code s -= slope_h · |i + off - j|}
 *       ({@code alibiSlopes} of shape {@code [H]} or {@code [B, H]}, fp32; slope 0 leaves head h unbiased);
 *       relative table {@code s += T[h][j - (i + off) + (Sk - 1)]} ({@code biasTable} of shape
 *       {@code [H, Sq + Sk - 1]}, fp32); dense additive bias ({@code denseBias} of shape
 *       {@code [B|1, H|1, Sq, Sk]});</li>
 *   <li>masks, each sending {@code s} to −∞: {@code causal} ({@code j > i + off}); window
 *       {@code (left, right)}, −1 meaning unbounded: outside {@code [i + off - left, i + off + right]};
 *       FlashMask {@code startend_row_indices} int32 {@code [B, Hm, Sk, n]}, {@code H % Hm == 0},
 *       n ∈ {1, 2, 4}, read together with {@code causal} as docs/design.md §4 says; dense boolean mask
 *       {@code [B|1, H|1, Sq, Sk]}, {@code true} = may attend;</li>
 *   <li>softmax over {@code j}, then dropout per {@link Dropout};</li>
 *   <li>{@code o_i = Σ_j p_ij v_j}, {@code lse_i = log Σ_j exp(s_ij)}; a row with no unmasked key gives
 *       {@code o_i = 0}, {@code lse_i = −∞}.</li>
 * </ol>
 *
 * <h2>Non-finite values</h2>
 * Every backend follows one rule for NaN and infinities in the inputs (the conformance suite's
 * {@code attention_nonfinite} cases check it on each). Logits are computed in fp32 from the stored inputs,
 * as steps 1–3 say, for the keys a row may attend (the masks of step 4 are applied first, so a masked key's
 * {@code k}, biases and logit never matter):
 * <ul>
 *   <li>a logit that is NaN or +∞ (a NaN in {@code q}/{@code k}, {@code ∞ − ∞} or {@code 0·∞} in the dot
 *       product, a +∞ bias) makes its row's {@code o_i} NaN in every feature and {@code lse_i} NaN;</li>
 *   <li>a logit of −∞ (a −∞ bias, or a dot product that is −∞) counts as a masked key; a row whose every
 *       key is masked or −∞ is an empty row: {@code o_i = 0}, {@code lse_i = −∞};</li>
 *   <li>a NaN or ±∞ in {@code v_j} reaches (those features of) {@code o_i} when {@code p_ij > 0}; whether it
 *       reaches rows with {@code p_ij = 0} (masked, dropped or underflowed keys) is unspecified, since
 *       {@code 0·∞} is NaN and backends differ in which zero terms they multiply;</li>
 *   <li>backward: a row whose {@code lse_i} is NaN gets a NaN {@code dq_i}, and every key it attends a NaN
 *       {@code dk_j} and {@code dv_j}; an empty row gets zero gradients. Beyond that, non-finite inputs may
 *       also make NaN the gradients of keys or rows they reach only through zero terms ({@code 0·∞});</li>
 *   <li>a logit that overflows fp32 (a large finite {@code scale}, {@code q} or {@code k}) becomes ±∞ or NaN
 *       depending on the backend's summation order, and then follows the rules above.</li>
 * </ul>
 * Scalars never make outputs non-finite on their own: {@code scale} and {@code softcap} are rejected unless
 * they are normal floats (finite, not 0, not subnormal), because the kernels use them in fp32.
 *
 * <pre>{@code
 * AttentionOptions options = AttentionOptions.builder().causal(true).window(256, 0).build();
 * }</pre>
 *
 * @param scale            softmax scale, or {@code null} for {@code 1/sqrt(D)}
 * @param causal           causal mask (bottom-right aligned)
 * @param windowLeft       keys allowed left of the diagonal, −1 = unbounded
 * @param windowRight      keys allowed right of the diagonal, −1 = unbounded
 * @param softcap          logit soft-cap {@code c}, 0 = off
 * @param alibiSlopes      ALiBi slopes or {@code null}
 * @param biasTable        relative-position bias table or {@code null}
 * @param denseBias        dense additive bias or {@code null}
 * @param flashMask        FlashMask {@code startend_row_indices} or {@code null}
 * @param denseMask        dense boolean mask or {@code null}
 * @param dropout          dropout, {@link Dropout#NONE} for none
 * @param deterministic    backward: bit-identical results run to run, whatever the thread count
 * @param biasTableGrad    backward: also return the gradient of {@code biasTable}
 * @param layout           how {@code q, k, v} (and {@code o}, {@code dO} and the gradients) hold their dimensions:
 *                         {@link AttentionLayout#BSHD} (default) or {@link AttentionLayout#BHSD} (PyTorch's)
 */
public record AttentionOptions(Double scale, boolean causal, int windowLeft, int windowRight, double softcap,
                               DeviceTensor alibiSlopes, DeviceTensor biasTable, DeviceTensor denseBias,
                               DeviceTensor flashMask, DeviceTensor denseMask, Dropout dropout,
                               boolean deterministic, boolean biasTableGrad, AttentionLayout layout) {

    /** Plain attention: no mask, no bias, default scale. */
    public static final AttentionOptions DEFAULT = builder().build();

    /** Validates what can be checked without the tensors' companions (see {@link AttentionRequest}). */
    public AttentionOptions {
        // Kernels compute in fp32: a scale or softcap is checked as the float it becomes. A value that rounds
        // to 0 or to infinity, or to a subnormal (flushed to 0 on many devices, and whose reciprocal
        // overflows), would silently turn the feature off or make every output NaN.
        if (scale != null) {
            InvalidRequestException.check(isNormalFloat(scale), "scale",
                    "a finite non-zero number whose magnitude is a normal float, in [" + Float.MIN_NORMAL + ", "
                            + Float.MAX_VALUE + "] (kernels use it in fp32)", scale);
        }
        InvalidRequestException.check(windowLeft >= -1, "windowLeft", ">= -1 (-1 = unbounded)", windowLeft);
        InvalidRequestException.check(windowRight >= -1, "windowRight", ">= -1 (-1 = unbounded)", windowRight);
        InvalidRequestException.check(softcap == 0.0 || (softcap > 0.0 && isNormalFloat(softcap)), "softcap",
                "0 (off) or a number in [" + Float.MIN_NORMAL + ", " + Float.MAX_VALUE
                        + "] (a normal float: kernels use it and its reciprocal in fp32)", softcap);
        if (dropout == null) {
            dropout = Dropout.NONE;
        }
        if (layout == null) {
            layout = AttentionLayout.BSHD;
        }
        InvalidRequestException.check(!biasTableGrad || biasTable != null, "biasTableGrad",
                "a biasTable to differentiate", "no biasTable");
    }

    /** Whether {@code x} is finite and, as a float, of normal magnitude (so neither it nor 1/x over- or underflows). */
    static boolean isNormalFloat(double x) {
        float f = (float) x;
        return Float.isFinite(f) && Math.abs(f) >= Float.MIN_NORMAL;
    }

    /** {@return whether a sliding window is set} */
    public boolean hasWindow() {
        return windowLeft >= 0 || windowRight >= 0;
    }

    /**
     * {@return the scale to use for head dimension {@code headDim}}
     *
     * @param headDim D, the head dimension
     */
    public double scaleFor(int headDim) {
        return scale != null ? scale : 1.0 / Math.sqrt(headDim);
    }

    /** {@return a builder starting from these options} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.scale = scale;
        b.causal = causal;
        b.windowLeft = windowLeft;
        b.windowRight = windowRight;
        b.softcap = softcap;
        b.alibiSlopes = alibiSlopes;
        b.biasTable = biasTable;
        b.denseBias = denseBias;
        b.flashMask = flashMask;
        b.denseMask = denseMask;
        b.dropout = dropout;
        b.deterministic = deterministic;
        b.biasTableGrad = biasTableGrad;
        b.layout = layout;
        return b;
    }

    /** {@return a builder with defaults: no mask, no bias, default scale, no dropout} */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link AttentionOptions}; every setter returns {@code this}. */
    public static final class Builder {
        private Double scale;
        private boolean causal;
        private int windowLeft = -1;
        private int windowRight = -1;
        private double softcap;
        private DeviceTensor alibiSlopes;
        private DeviceTensor biasTable;
        private DeviceTensor denseBias;
        private DeviceTensor flashMask;
        private DeviceTensor denseMask;
        private Dropout dropout = Dropout.NONE;
        private boolean deterministic;
        private boolean biasTableGrad;
        private AttentionLayout layout = AttentionLayout.BSHD;

        private Builder() {
        }

        /**
         * Softmax scale; {@code null} restores the default {@code 1/sqrt(D)}.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder scale(Double value) { this.scale = value; return this; }
        /**
         * Causal masking.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder causal(boolean value) { this.causal = value; return this; }
        /**
         * Sliding window, −1 = unbounded on that side.
         *
         * @param left keys allowed left of the diagonal (-1 = unbounded)
         * @param right keys allowed right of the diagonal (-1 = unbounded)
         * @return this builder
         */
        public Builder window(int left, int right) { this.windowLeft = left; this.windowRight = right; return this; }
        /**
         * Logit soft-cap, 0 = off.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder softcap(double value) { this.softcap = value; return this; }
        /**
         * ALiBi slopes {@code [H]} or {@code [B, H]}.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder alibiSlopes(DeviceTensor value) { this.alibiSlopes = value; return this; }
        /**
         * Relative-position bias table {@code [H, Sq + Sk - 1]}.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder biasTable(DeviceTensor value) { this.biasTable = value; return this; }
        /**
         * Dense additive bias {@code [B|1, H|1, Sq, Sk]}.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder denseBias(DeviceTensor value) { this.denseBias = value; return this; }
        /**
         * FlashMask {@code startend_row_indices} {@code [B, Hm, Sk, n]}.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder flashMask(DeviceTensor value) { this.flashMask = value; return this; }
        /**
         * Dense boolean mask {@code [B|1, H|1, Sq, Sk]}, true = attend.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder denseMask(DeviceTensor value) { this.denseMask = value; return this; }
        /**
         * Dropout.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder dropout(Dropout value) { this.dropout = value; return this; }
        /**
         * Bit-identical backward.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder deterministic(boolean value) { this.deterministic = value; return this; }
        /**
         * Return the bias table's gradient from backward.
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder biasTableGrad(boolean value) { this.biasTableGrad = value; return this; }
        /**
         * Layout of {@code q, k, v} and the outputs: BSHD (default) or BHSD (PyTorch's).
         *
         * @param value the value to set
         * @return this builder
         */
        public Builder layout(AttentionLayout value) { this.layout = value; return this; }

        /** {@return the options; validates them} */
        public AttentionOptions build() {
            return new AttentionOptions(scale, causal, windowLeft, windowRight, softcap, alibiSlopes, biasTable,
                    denseBias, flashMask, denseMask, dropout, deterministic, biasTableGrad, layout);
        }
    }
}
