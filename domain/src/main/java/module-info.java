/**
 * attn4j domain: hardware-agnostic models, masks, position schemes, adapters and training, talking only
 * to {@code dev.attn4j.ports}; the safetensors reader and writer ({@link dev.attn4j.domain.safetensors}). Also the Guice wiring for products ({@link dev.attn4j.domain.inject.Attn4jModule}).
 */
module dev.attn4j.domain {
    requires transitive dev.attn4j.ports;
    requires com.google.guice;
    requires jakarta.inject;
    requires com.fasterxml.jackson.core;

    exports dev.attn4j.domain.inject;
    exports dev.attn4j.domain.masks;
    exports dev.attn4j.domain.positional;
    exports dev.attn4j.domain.safetensors;
    opens dev.attn4j.domain.inject to com.google.guice;
}
