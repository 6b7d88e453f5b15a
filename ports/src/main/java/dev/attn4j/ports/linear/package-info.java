/**
 * The linear port: linear layers (forward, and a backward that accumulates parameter gradients) and general matrix products, on each backend's best GEMM. See docs/design.md §9.
 */
package dev.attn4j.ports.linear;
