/**
 * The shared conformance suite: a float64 oracle written straight from docs/design.md §4–5 (sharing no code with
 * any backend), random cases, the pass rule of §7, and safetensors fixtures. The app's {@code conformance}
 * and {@code run-op} commands use the same code as the JUnit suite.
 */
module dev.attn4j.conformance {
    requires transitive dev.attn4j.ports;
    requires transitive dev.attn4j.domain;

    exports dev.attn4j.conformance;
    exports dev.attn4j.conformance.oracle;
    exports dev.attn4j.conformance.fixtures;
}
