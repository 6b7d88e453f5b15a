/**
 * The float64 oracle of attn4j, written straight from the design and sharing no code with any backend: naive,
 * obviously correct references for every port, their reduced-precision twins (the "ref" of the pass rule), the
 * pass rule itself, and {@link dev.attn4j.oracle.junit.EachBackend}, a JUnit 5 extension that runs a test on every
 * available backend. It depends on {@code ports} only, so each backend's own tests use it in test scope, and the
 * conformance suite builds on it.
 *
 * <pre>{@code
 * AttentionOutputs golden = AttentionOracle.forward(problem, Precision.FP64);
 * AttentionOutputs ref = AttentionOracle.forward(problem, Precision.FP32);
 * PassRule.Check c = PassRule.check("o", golden.o(), ref.o(), backendO, DType.F32);
 * }</pre>
 */
module dev.attn4j.oracle {
    requires transitive dev.attn4j.ports;
    // Only the extension's package needs JUnit; the oracle itself runs without it (the app's conformance command).
    requires static org.junit.jupiter.api;

    exports dev.attn4j.oracle;
    exports dev.attn4j.oracle.junit;
}
