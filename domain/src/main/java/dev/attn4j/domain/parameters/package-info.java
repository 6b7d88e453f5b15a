/**
 * A model's parameters on a backend: declarations with their initialisers ({@link dev.attn4j.domain.parameters.ParameterSpec},
 * {@link dev.attn4j.domain.parameters.Init}), and the store that keeps values and gradients in flat buffers by
 * optimizer group ({@link dev.attn4j.domain.parameters.ParameterStore}). See docs/design.md §10.
 */
package dev.attn4j.domain.parameters;
