/**
 * attn4j domain: hardware-agnostic models, masks, position schemes, adapters and training, talking only
 * to {@code dev.attn4j.ports}; the safetensors reader and writer ({@link dev.attn4j.domain.safetensors}). It
 * needs no injector: the Guice wiring is the separate module {@code dev.attn4j.guice} (artifact {@code attn4j-guice}).
 */
module dev.attn4j.domain {
    requires transitive dev.attn4j.ports;
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.core;
    // PiSSA's SVD (EJML's jars have no module descriptor: automatic modules named after the jars)
    requires ejml.ddense;
    requires ejml.core;
    // Optional: only HuggingFaceTokenizer needs DJL (and its natives); it checks for it at run time.
    requires static ai.djl.tokenizers;

    exports dev.attn4j.domain.adapters;
    exports dev.attn4j.domain.data;
    exports dev.attn4j.domain.generation;
    exports dev.attn4j.domain.layers;
    exports dev.attn4j.domain.model;
    exports dev.attn4j.domain.parameters;
    exports dev.attn4j.domain.masks;
    exports dev.attn4j.domain.positional;
    exports dev.attn4j.domain.safetensors;
    exports dev.attn4j.domain.training;
}
