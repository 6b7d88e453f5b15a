/** Guice wiring of the selected backend's ports ({@link dev.attn4j.guice.Attn4jModule}). */
package dev.attn4j.guice;
