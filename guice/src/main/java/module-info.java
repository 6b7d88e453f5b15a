/**
 * attn4j's optional Guice wiring ({@link dev.attn4j.guice.Attn4jModule}): the selected backend and its ports
 * bound for injection, and ({@link dev.attn4j.guice.LanguageModelModule}) a language model on it. The only attn4j module that needs Guice; ports and domain do not.
 */
module dev.attn4j.guice {
    requires transitive dev.attn4j.ports;
    requires transitive dev.attn4j.domain;
    requires transitive com.google.guice;
    requires jakarta.inject;

    exports dev.attn4j.guice;
    opens dev.attn4j.guice to com.google.guice;
}
