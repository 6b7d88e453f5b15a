/**
 * The attn4j command line: {@code attn4j backends} lists every backend provider on the class path with its
 * probe result and declared capabilities; {@code attn4j conformance} runs the shared conformance suite on
 * every available backend and writes a report; {@code attn4j bench} times attention or normalisation.
 *
 * <pre>{@code
 * ./attn4j backends
 * ./attn4j conformance --backend cpu --cases 8 --report reports/
 * }</pre>
 */
module dev.attn4j.app {
    requires dev.attn4j.ports;
    requires dev.attn4j.domain;
    requires dev.attn4j.conformance;
    requires info.picocli;
    requires me.tongfei.progressbar;
    requires com.fasterxml.jackson.databind;
    requires org.slf4j;
    requires org.knowm.xchart;
    requires java.desktop;

    uses dev.attn4j.ports.spi.BackendProvider;

    // picocli reads and sets the annotated fields of the commands reflectively.
    opens dev.attn4j.app to info.picocli;
    opens dev.attn4j.app.backends to info.picocli;
    opens dev.attn4j.app.conformance to info.picocli, com.fasterxml.jackson.databind;
    opens dev.attn4j.app.bench to info.picocli, com.fasterxml.jackson.databind;
    opens dev.attn4j.app.runop to info.picocli;
}
