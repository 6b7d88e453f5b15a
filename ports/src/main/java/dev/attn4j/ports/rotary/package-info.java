/**
 * The rotary port: rotary position embedding with an optional xPos scale table, forward and inverse. See docs/design.md §5.
 */
package dev.attn4j.ports.rotary;
