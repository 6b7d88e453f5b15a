/**
 * The shared conformance suite: seeded cases of every op, run on a backend and judged against the float64 oracle
 * (module {@code dev.attn4j.oracle}, sharing no code with any backend) by the pass rule of docs/design.md §7, and
 * safetensors fixtures. The app's {@code conformance} and {@code run-op} commands use the same code as the JUnit
 * suite.
 */
module dev.attn4j.conformance {
    requires transitive dev.attn4j.ports;
    requires transitive dev.attn4j.oracle;
    requires transitive dev.attn4j.domain;
    requires com.fasterxml.jackson.databind;

    exports dev.attn4j.conformance;
    exports dev.attn4j.conformance.fixtures;
}
