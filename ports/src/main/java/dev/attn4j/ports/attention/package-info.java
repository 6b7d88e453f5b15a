/**
 * The attention port: FlashAttention-style forward and backward with masks (causal, window, FlashMask, dense), position biases (ALiBi, relative tables), soft-capping and Philox dropout. See docs/design.md §4–§5.
 */
package dev.attn4j.ports.attention;
