/**
 * The loss port: fused linear cross-entropy in chunks, whose logits never exist whole. See docs/design.md §9.
 */
package dev.attn4j.ports.loss;
