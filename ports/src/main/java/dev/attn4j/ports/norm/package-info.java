/**
 * The normalisation port: LayerNorm and RMSNorm forward and backward, with the fused residual and DeepNorm forms. See docs/design.md §5.
 */
package dev.attn4j.ports.norm;
