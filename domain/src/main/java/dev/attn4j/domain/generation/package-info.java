/**
 * Text generation: KV-cached decoding over a {@link dev.attn4j.domain.model.Transformer} or the decoder of an
 * {@link dev.attn4j.domain.model.EncoderDecoder}, with greedy, temperature, top-k and top-p sampling from a seeded
 * generator. See docs/design.md §11.
 */
package dev.attn4j.domain.generation;
