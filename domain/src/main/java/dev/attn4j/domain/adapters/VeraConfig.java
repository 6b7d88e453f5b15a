package dev.attn4j.domain.adapters;

import dev.attn4j.ports.InvalidRequestException;

/**
 * A VeRA adapter's configuration, with PEFT's {@code VeraConfig} fields and meaning (peft
 * {@code src/peft/tuners/vera/config.py}, {@code layer.py}, {@code model.py}): one pair of frozen random projections
 * {@code vera_A [r, max_in]}, {@code vera_B [max_out, r]} shared by every wrapped layer (each layer uses the slices
 * {@code vera_A[:, :in]} and {@code vera_B[:out, :]}), drawn from {@code projection_prng_key}, and per layer trained
 * vectors {@code λ_d [r]} (init {@code d_initial}) and {@code λ_b [out]} (init 0):
 * {@code y = W·x + λ_b ⊙ (B_s·(λ_d ⊙ (A_s·dropout(x))))}.
 *
 * <pre>{@code
 * VeraConfig c = VeraConfig.of(256, TargetModules.allLinear());
 * }</pre>
 *
 * @param r                   the rank, {@code >= 1}
 * @param targetModules       the wrapped layers
 * @param excludeModules      layers never wrapped, or {@code null}
 * @param projectionPrngKey   the seed of the projections ({@code torch.Generator().manual_seed(key)})
 * @param saveProjection      whether the projections are saved with the adapter
 * @param dInitial            the initial value of every {@code λ_d}, finite
 * @param veraDropout         dropout probability on the adapter input, in {@code [0, 1)}
 * @param bias                {@code "none"}
 * @param taskType            {@code task_type}, or {@code null}
 * @param baseModelNameOrPath {@code base_model_name_or_path}, or {@code null}
 */
public record VeraConfig(int r, TargetModules targetModules, TargetModules excludeModules, long projectionPrngKey,
                         boolean saveProjection, double dInitial, double veraDropout, String bias, String taskType,
                         String baseModelNameOrPath) implements AdapterConfig {

    /** Checks ranges. */
    public VeraConfig {
        InvalidRequestException.check(r >= 1, "r", ">= 1", r);
        InvalidRequestException.check(targetModules != null, "target_modules", "the layers to wrap", "null");
        InvalidRequestException.check(Double.isFinite(dInitial), "d_initial", "a finite number", dInitial);
        InvalidRequestException.check(veraDropout >= 0 && veraDropout < 1, "vera_dropout", "a probability in [0, 1)",
                veraDropout);
        InvalidRequestException.check(BIAS_NONE.equals(bias), "bias",
                "\"none\" (attn4j trains no base-model bias with an adapter)", bias);
    }

    /**
     * PEFT's defaults but for the rank and targets: key 0, projections saved, {@code d_initial} 0.1, no dropout.
     *
     * @param r       the rank
     * @param targets the wrapped layers
     * @return the configuration
     */
    public static VeraConfig of(int r, TargetModules targets) {
        return new VeraConfig(r, targets, null, 0L, true, 0.1, 0.0, BIAS_NONE, "CAUSAL_LM", null);
    }

    @Override
    public PeftType peftType() {
        return PeftType.VERA;
    }

    @Override
    public double dropout() {
        return veraDropout;
    }

    /**
     * {@return a copy with another projection key}
     *
     * @param key {@code projection_prng_key}
     */
    public VeraConfig withProjectionKey(long key) {
        return new VeraConfig(r, targetModules, excludeModules, key, saveProjection, dInitial, veraDropout, bias, taskType,
                baseModelNameOrPath);
    }

    /**
     * {@return a copy that saves (or not) the projections}
     *
     * @param save {@code save_projection}
     */
    public VeraConfig withSaveProjection(boolean save) {
        return new VeraConfig(r, targetModules, excludeModules, projectionPrngKey, save, dInitial, veraDropout, bias,
                taskType, baseModelNameOrPath);
    }

    /**
     * {@return a copy with another dropout}
     *
     * @param p the probability
     */
    public VeraConfig withDropout(double p) {
        return new VeraConfig(r, targetModules, excludeModules, projectionPrngKey, saveProjection, dInitial, p, bias,
                taskType, baseModelNameOrPath);
    }

    /**
     * {@return a copy naming its base model}
     *
     * @param name {@code base_model_name_or_path}
     */
    public VeraConfig withBaseModel(String name) {
        return new VeraConfig(r, targetModules, excludeModules, projectionPrngKey, saveProjection, dInitial, veraDropout,
                bias, taskType, name);
    }
}
