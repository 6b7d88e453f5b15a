package dev.attn4j.domain.adapters;

/**
 * A PEFT adapter configuration ({@code adapter_config.json}): {@link LoraConfig} (LoRA, rsLoRA, PiSSA) or
 * {@link VeraConfig}. Read and written by {@link AdapterConfigs}.
 *
 * <pre>{@code
 * AdapterConfig c = AdapterConfigs.read(dir);
 * if (c instanceof LoraConfig lora) System.out.println(lora.scaling());
 * }</pre>
 */
public sealed interface AdapterConfig permits LoraConfig, VeraConfig {
    /** PEFT's only bias mode attn4j trains: no base-model bias is trained or saved. */
    String BIAS_NONE = "none";

    /** {@return PEFT's {@code peft_type}} */
    PeftType peftType();

    /** {@return the rank} */
    int r();

    /** {@return which linear layers are wrapped} */
    TargetModules targetModules();

    /** {@return layers never wrapped (PEFT's {@code exclude_modules}), or {@code null}} */
    TargetModules excludeModules();

    /** {@return PEFT's {@code bias} mode: {@code "none"}} */
    String bias();

    /** {@return the dropout probability on the adapter's input} */
    double dropout();

    /** {@return PEFT's {@code task_type}, e.g. {@code CAUSAL_LM}, or {@code null}} */
    String taskType();

    /** {@return PEFT's {@code base_model_name_or_path}, or {@code null}} */
    String baseModelNameOrPath();

    /**
     * Whether the layer at {@code path} gets this adapter: targeted and not excluded.
     *
     * @param path the module path
     * @return whether it is wrapped
     */
    default boolean wraps(String path) {
        return (excludeModules() == null || !excludeModules().excludes(path)) && targetModules().matches(path);
    }
}
