/**
 * Parameter-efficient fine-tuning in Hugging Face PEFT's semantics and file format (docs/design.md §13): LoRA
 * ({@link dev.attn4j.domain.adapters.LoraConfig}, with rsLoRA scaling, LoRA+ learning rates through
 * {@link dev.attn4j.domain.adapters.Adapter#lrScales(double)}, and PiSSA initialisation by
 * {@link dev.attn4j.domain.adapters.Pissa}) and VeRA ({@link dev.attn4j.domain.adapters.VeraConfig}), attached to a
 * {@link dev.attn4j.domain.model.Transformer}'s linear layers by {@link dev.attn4j.domain.adapters.PeftModel}, which
 * adds, loads, saves, switches, merges and unmerges named adapters. Adapter directories are PEFT's
 * ({@code adapter_config.json}, {@code adapter_model.safetensors}), readable by PEFT and readable here.
 */
package dev.attn4j.domain.adapters;
