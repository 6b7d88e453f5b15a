/** The float64 reference (oracle) written from docs/design.md §4-5, and its reduced-precision twin. */
package dev.attn4j.conformance.oracle;
