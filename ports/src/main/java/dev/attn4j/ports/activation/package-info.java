/**
 * The activation port: GELU (exact and tanh), SiLU, ReLU and gated linear units (SwiGLU, GeGLU), forward and backward. See docs/design.md §9.
 */
package dev.attn4j.ports.activation;
