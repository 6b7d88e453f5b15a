package dev.attn4j.domain.model;

import dev.attn4j.ports.InvalidRequestException;

/**
 * x-transformers' {@code Encoder(...)} / {@code Decoder(...)} options that attn4j implements, with
 * x-transformers 1.20's defaults and names (JSON keys in {@link ModelConfigs}). Derived values
 * ({@link #kvHeads()}, {@link #rotaryDim()}, {@link #residualAlpha()}) follow x-transformers' rules.
 *
 * <pre>{@code
 * LayersConfig orca = LayersConfig.decoder(512, 6, 8).withAlibi(4).withRotaryXpos().withDeepnorm()
 *         .withShiftTokens(1).withOneKvHead();
 * }</pre>
 *
 * @param causal               decoder (true) or encoder (false)
 * @param dim                  model width D
 * @param depth                number of blocks (attention + feed-forward each)
 * @param heads                query heads H
 * @param dimHead              features per head ({@code attn_dim_head}, default 64)
 * @param kvHeads              key/value heads G ({@code attn_kv_heads}; {@code attn_one_kv_head} = 1; default H)
 * @param alibiPosBias         ALiBi
 * @param alibiNumHeads        heads with an ALiBi slope (the slopes of that many heads; the rest none)
 * @param relPosBias           T5 bucketed relative-position bias
 * @param relPosNumBuckets     T5 buckets (default 32)
 * @param relPosMaxDistance    T5 max distance (default 128)
 * @param rotaryPosEmb         rotary position embedding on self-attention
 * @param rotaryEmbDim         requested rotary features per head (0 = {@code dim_head / 2}); at least 32 either way
 * @param rotaryXpos           xPos on top of rotary (decoders only)
 * @param rotaryXposScaleBase  xPos scale base (default 512)
 * @param deepnorm             DeepNorm: post-norm with residual scale {@code (2·depth)^¼} and a learned per-feature scale
 * @param preNorm              pre-norm (default) or post-norm
 * @param scaleResidual        learned per-feature residual scale (implied by DeepNorm)
 * @param shiftTokens          token shift amount n (0 = off)
 * @param ffMult               feed-forward inner width factor (default 4)
 * @param ffGlu                gated feed-forward
 * @param ffSwish              SiLU instead of exact GELU
 * @param useRmsnorm           RMSNorm instead of LayerNorm
 * @param crossAttend          cross-attention layers (an encoder–decoder's decoder)
 */
public record LayersConfig(boolean causal, int dim, int depth, int heads, int dimHead, int kvHeads, boolean alibiPosBias,
                           int alibiNumHeads, boolean relPosBias, int relPosNumBuckets, int relPosMaxDistance,
                           boolean rotaryPosEmb, int rotaryEmbDim, boolean rotaryXpos, double rotaryXposScaleBase,
                           boolean deepnorm, boolean preNorm, boolean scaleResidual, int shiftTokens, double ffMult,
                           boolean ffGlu, boolean ffSwish, boolean useRmsnorm, boolean crossAttend) {

    /** x-transformers' default head width. */
    public static final int DEFAULT_DIM_HEAD = 64;

    /** Checks ranges and the combinations x-transformers rejects; DeepNorm forces post-norm, as in x-transformers. */
    public LayersConfig {
        if (deepnorm) {
            preNorm = false;
        }
        check(dim >= 1, "dim", ">= 1", dim);
        check(depth >= 1, "depth", ">= 1", depth);
        check(heads >= 1, "heads", ">= 1", heads);
        check(dimHead >= 1, "attn_dim_head", ">= 1", dimHead);
        check(kvHeads >= 1 && heads % kvHeads == 0, "attn_kv_heads", "a divisor of heads = " + heads, kvHeads);
        check(!alibiPosBias || (alibiNumHeads >= 1 && alibiNumHeads <= heads), "alibi_num_heads",
                "in [1, heads = " + heads + "]", alibiNumHeads);
        check(!(alibiPosBias && relPosBias), "rel_pos_bias", "false with alibi_pos_bias (one position bias)", true);
        check(relPosNumBuckets >= 1 && relPosNumBuckets <= relPosMaxDistance, "rel_pos_num_buckets",
                "in [1, rel_pos_max_distance = " + relPosMaxDistance + "]", relPosNumBuckets);
        check(rotaryEmbDim >= 0 && rotaryEmbDim % 2 == 0, "rotary_emb_dim", "an even number (0 = dim_head / 2)", rotaryEmbDim);
        check(!rotaryXpos || causal, "rotary_xpos", "false in an encoder (xPos is causal only)", true);
        check(rotaryXposScaleBase > 0 && Double.isFinite(rotaryXposScaleBase), "rotary_xpos_scale_base", "> 0",
                rotaryXposScaleBase);
        check(shiftTokens >= 0, "shift_tokens", ">= 0", shiftTokens);
        check(ffMult > 0 && Double.isFinite(ffMult) && (int) (dim * ffMult) >= 1, "ff_mult", "> 0", ffMult);
        if (rotaryPosEmb || rotaryXpos) {
            int r = Math.max(rotaryEmbDim == 0 ? dimHead / 2 : rotaryEmbDim, 32);
            check(r <= dimHead, "attn_dim_head", ">= " + r + " (rotary rotates max(dim_head / 2, 32) features)", dimHead);
        }
        check(!(crossAttend && !causal), "cross_attend", "only in a decoder", true);
    }

    private static void check(boolean ok, String option, String expected, Object actual) {
        InvalidRequestException.check(ok, option, expected, actual);
    }

    /**
     * A decoder with x-transformers' defaults: pre-norm LayerNorm, GELU feed-forward ×4, 64 features per head.
     *
     * @param dim the model width D
     * @param depth the number of attention + feed-forward layer pairs
     * @param heads the query heads H (each as its own KV head)
     * @return the configuration, with {@value #DEFAULT_DIM_HEAD} features per head and one KV head per query head
     */
    public static LayersConfig decoder(int dim, int depth, int heads) {
        return new LayersConfig(true, dim, depth, heads, DEFAULT_DIM_HEAD, heads, false, heads, false, 32, 128, false, 0,
                false, 512, false, true, false, 0, 4, false, false, false, false);
    }

    /**
     * An encoder with x-transformers' defaults.
     *
     * @param dim the model width D
     * @param depth the number of attention + feed-forward layer pairs
     * @param heads the query heads H
     * @return the configuration of {@link #decoder} without the causal mask
     */
    public static LayersConfig encoder(int dim, int depth, int heads) {
        return decoder(dim, depth, heads).withCausal(false);
    }

    LayersConfig withCausal(boolean c) {
        return new LayersConfig(c, dim, depth, heads, dimHead, kvHeads, alibiPosBias, alibiNumHeads, relPosBias,
                relPosNumBuckets, relPosMaxDistance, rotaryPosEmb, rotaryEmbDim, rotaryXpos, rotaryXposScaleBase, deepnorm,
                preNorm, scaleResidual, shiftTokens, ffMult, ffGlu, ffSwish, useRmsnorm, crossAttend);
    }

    /** {@return whether the norm sits after the residual add (DeepNorm implies it)} */
    public boolean postNorm() {
        return deepnorm || !preNorm;
    }

    /** {@return whether the residual has a learned per-feature scale} */
    public boolean learnedResidualScale() {
        return deepnorm || scaleResidual;
    }

    /** {@return the constant residual multiplier: DeepNorm's {@code α = (2·depth)^¼}, else 1} */
    public double residualAlpha() {
        return deepnorm ? Math.pow(2.0 * depth, 0.25) : 1.0;
    }

    /** {@return DeepNorm's initialisation gain {@code β = (8·depth)^−¼}} */
    public double deepnormBeta() {
        return Math.pow(8.0 * depth, -0.25);
    }

    /** {@return whether queries and keys are rotated} */
    public boolean rotary() {
        return rotaryPosEmb || rotaryXpos;
    }

    /**
     * {@return rotated features per head: {@code max(rotary_emb_dim or dim_head / 2, 32)}, x-transformers' rule; 0
     * without rotary}
     */
    public int rotaryDim() {
        return rotary() ? Math.max(rotaryEmbDim == 0 ? dimHead / 2 : rotaryEmbDim, 32) : 0;
    }

    /** {@return the feed-forward inner width {@code int(dim · ff_mult)}} */
    public int ffInner() {
        return (int) (dim * ffMult);
    }

    /** {@return whether the stack ends with a final norm (pre-norm stacks do)} */
    public boolean finalNorm() {
        return !postNorm();
    }

    /**
     * {@return whether any position scheme applies inside attention (x-transformers then drops absolute positions)}
     */
    public boolean hasRelativePositions() {
        return relPosBias || rotary();
    }
}
