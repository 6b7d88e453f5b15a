/**
 * The optimizer port: fused AdamW over a parameter group and the sums of squares of global-norm clipping, on the device. See docs/design.md §9.
 */
package dev.attn4j.ports.optim;
