package dev.attn4j.domain.adapters;

/**
 * The PEFT methods attn4j implements, by PEFT's {@code peft_type} name.
 *
 * <pre>{@code
 * PeftType.valueOf("LORA")
 * }</pre>
 */
public enum PeftType {
    /** LoRA (with rsLoRA scaling, LoRA+ learning rates and PiSSA initialisation as options). */
    LORA,
    /** VeRA: shared frozen random projections, trained per-layer scaling vectors. */
    VERA
}
