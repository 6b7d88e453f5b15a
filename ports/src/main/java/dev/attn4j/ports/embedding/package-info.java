/**
 * The embedding port: look-ups and their deterministic scatter-add backward. See docs/design.md §9.
 */
package dev.attn4j.ports.embedding;
