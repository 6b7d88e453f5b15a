/**
 * Tensors and their port: shapes, dtypes, 16-bit conversions, host transfers, views, copies, casts and fills. See docs/design.md §3.
 */
package dev.attn4j.ports.tensor;
