package dev.attn4j.domain.adapters;

import dev.attn4j.ports.InvalidRequestException;

/**
 * A LoRA adapter's configuration, with PEFT's {@code LoraConfig} fields and meaning (peft
 * {@code src/peft/tuners/lora/config.py}, {@code src/peft/tuners/lora/layer.py}): {@code y = W·x +
 * s·B·A·dropout(x)} with {@code A [r, in]}, {@code B [out, r]} and {@code s = lora_alpha / r}, or
 * {@code lora_alpha / √r} with rsLoRA ({@code use_rslora}).
 *
 * <pre>{@code
 * LoraConfig c = LoraConfig.of(8, 16, TargetModules.names("to_q", "to_v")).withRslora(true).withDropout(0.05);
 * c.scaling();   // 16 / √8
 * }</pre>
 *
 * @param r                   the rank, {@code >= 1}
 * @param loraAlpha           {@code lora_alpha}, finite and {@code > 0}
 * @param targetModules       the wrapped layers
 * @param excludeModules      layers never wrapped, or {@code null}
 * @param useRslora           rsLoRA scaling {@code alpha/√r}
 * @param init                {@code init_lora_weights}
 * @param loraDropout         dropout probability on the adapter input, in {@code [0, 1)}
 * @param bias                {@code "none"} (the only mode attn4j trains)
 * @param taskType            {@code task_type} (e.g. {@code CAUSAL_LM}), or {@code null}
 * @param baseModelNameOrPath {@code base_model_name_or_path}, or {@code null}
 */
public record LoraConfig(int r, double loraAlpha, TargetModules targetModules, TargetModules excludeModules,
                         boolean useRslora, LoraInit init, double loraDropout, String bias, String taskType,
                         String baseModelNameOrPath) implements AdapterConfig {

    /** Checks ranges. */
    public LoraConfig {
        InvalidRequestException.check(r >= 1, "r", ">= 1", r);
        InvalidRequestException.check(Double.isFinite(loraAlpha) && loraAlpha > 0, "lora_alpha", "a finite number > 0",
                loraAlpha);
        InvalidRequestException.check(targetModules != null, "target_modules", "the layers to wrap", "null");
        InvalidRequestException.check(init != null, "init_lora_weights", "an init", "null");
        InvalidRequestException.check(loraDropout >= 0 && loraDropout < 1, "lora_dropout", "a probability in [0, 1)",
                loraDropout);
        InvalidRequestException.check(BIAS_NONE.equals(bias), "bias",
                "\"none\" (attn4j trains no base-model bias with an adapter)", bias);
    }

    /**
     * PEFT's defaults but for the rank, alpha and targets: no rsLoRA, the default init, no dropout, bias
     * {@code "none"}, task {@code CAUSAL_LM}.
     *
     * @param r       the rank
     * @param alpha   {@code lora_alpha}
     * @param targets the wrapped layers
     * @return the configuration
     */
    public static LoraConfig of(int r, double alpha, TargetModules targets) {
        return new LoraConfig(r, alpha, targets, null, false, LoraInit.DEFAULT, 0.0, BIAS_NONE, "CAUSAL_LM", null);
    }

    @Override
    public PeftType peftType() {
        return PeftType.LORA;
    }

    @Override
    public double dropout() {
        return loraDropout;
    }

    /** {@return the scaling {@code s}: {@code alpha / r}, or {@code alpha / √r} with rsLoRA} */
    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /**
     * {@return a copy with rsLoRA on or off}
     *
     * @param on whether rsLoRA scales
     */
    public LoraConfig withRslora(boolean on) {
        return new LoraConfig(r, loraAlpha, targetModules, excludeModules, on, init, loraDropout, bias, taskType,
                baseModelNameOrPath);
    }

    /**
     * {@return a copy with another init}
     *
     * @param value the init
     */
    public LoraConfig withInit(LoraInit value) {
        return new LoraConfig(r, loraAlpha, targetModules, excludeModules, useRslora, value, loraDropout, bias, taskType,
                baseModelNameOrPath);
    }

    /**
     * {@return a copy with another dropout}
     *
     * @param p the probability
     */
    public LoraConfig withDropout(double p) {
        return new LoraConfig(r, loraAlpha, targetModules, excludeModules, useRslora, init, p, bias, taskType,
                baseModelNameOrPath);
    }

    /**
     * {@return a copy excluding some layers}
     *
     * @param exclude the excluded layers, or {@code null}
     */
    public LoraConfig withExclude(TargetModules exclude) {
        return new LoraConfig(r, loraAlpha, targetModules, exclude, useRslora, init, loraDropout, bias, taskType,
                baseModelNameOrPath);
    }

    /**
     * {@return a copy naming its base model}
     *
     * @param name {@code base_model_name_or_path}
     */
    public LoraConfig withBaseModel(String name) {
        return new LoraConfig(r, loraAlpha, targetModules, excludeModules, useRslora, init, loraDropout, bias, taskType,
                name);
    }

    /**
     * {@return a copy with another rank and alpha}
     *
     * @param rank the rank
     * @param alpha {@code lora_alpha}
     */
    public LoraConfig withRank(int rank, double alpha) {
        return new LoraConfig(rank, alpha, targetModules, excludeModules, useRslora, init, loraDropout, bias, taskType,
                baseModelNameOrPath);
    }
}
