/**
 * Models configured like x-transformers 1.20 (docs/design.md §11): configurations and their JSON
 * ({@link dev.attn4j.domain.model.ModelConfigs}, with the Orca, GPT-style and T5-style presets), the decoder- or
 * encoder-only {@link dev.attn4j.domain.model.Transformer}, the {@link dev.attn4j.domain.model.EncoderDecoder}, and
 * their weights under the reference's state-dict names.
 */
package dev.attn4j.domain.model;
