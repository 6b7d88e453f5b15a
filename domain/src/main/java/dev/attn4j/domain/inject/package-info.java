/** Guice wiring of the selected backend's ports. */
package dev.attn4j.domain.inject;
