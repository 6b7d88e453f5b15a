package dev.attn4j.conformance;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 item 3: the non-finite rule's cases, proven on the oracle engine (honest it passes; an engine that
 * loses a NaN — as OpenCL's {@code fmax} did, reporting the row as empty — fails) and run on every available
 * backend. The same cases are part of the standard suite; this class runs them alone, quickly.
 */
class NonFiniteRuleTest {

    private static List<CaseResult> run(Backend backend) {
        ConformanceSuite suite = ConformanceSuite.of(0, 0, 1L);
        List<CaseResult> results = new ArrayList<>();
        for (NonFiniteConfig c : NonFiniteConfig.standard(ConformanceSuite.SEED)) {
            for (Op op : c.ops()) {
                results.add(suite.run(new ConformanceCase(op, c), backend));
            }
        }
        return results;
    }

    @Test
    void theOracleFollowsTheRule() {
        try (Backend b = Backend.of(new OracleEngine("oracle", OracleEngine.everything(), OracleEngine::honest))) {
            List<CaseResult> results = run(b);
            assertEquals(12, results.size());
            results.forEach(r -> assertEquals(Outcome.PASSED, r.outcome(), () -> r.caseId() + " " + r.op() + ": "
                    + r.detail()));
        }
    }

    @Test
    void anEngineThatDropsNaNRowsToEmptyRowsFails() {
        // What OpenCL did: fmax ignored the NaN and the row was taken as fully masked (o = 0, lse = -inf).
        try (Backend b = Backend.of(new OracleEngine("nan-dropping", OracleEngine.everything(), (name, data) -> {
            float[] out = data.clone();
            for (int n = 0; n < out.length; n++) {
                if (Float.isNaN(out[n])) {
                    out[n] = name.equals("lse") ? Float.NEGATIVE_INFINITY : 0f;
                }
            }
            return out;
        }))) {
            List<String> failed = run(b).stream().filter(r -> r.outcome() == Outcome.FAILED)
                    .map(r -> r.op() + " " + r.caseId()).toList();
            // Every case whose golden output holds a NaN fails; softcap_inf_k and neg_inf_k hold none.
            assertEquals(Set.of("attention_nonfinite nan_q", "attention_nonfinite_backward nan_q",
                    "attention_nonfinite nan_v", "attention_nonfinite_backward nan_v",
                    "attention_nonfinite bias_inf", "attention_nonfinite_backward bias_inf",
                    "attention_nonfinite inf_k_all", "attention_nonfinite_backward inf_k_all",
                    "attention_nonfinite inf_k_causal"), Set.copyOf(failed));
            assertTrue(failed.stream().allMatch(f -> !f.contains("neg_inf_k")));
        }
    }

    @TestFactory
    Stream<DynamicTest> everyAvailableBackendFollowsTheRule() {
        BackendSelector selector = BackendSelector.fromServiceLoader();
        return selector.survey().stream().filter(s -> s.availability().available()).map(ProviderStatus::name)
                .map(name -> DynamicTest.dynamicTest(name, () -> {
                    try (Backend backend = selector.open(name, BackendOptions.none())) {
                        List<CaseResult> results = run(backend);
                        List<CaseResult> bad = results.stream().filter(r -> r.outcome() != Outcome.PASSED).toList();
                        assertTrue(bad.isEmpty(), () -> name + ": " + bad.size() + " not passed:\n  "
                                + String.join("\n  ", bad.stream().map(r -> r.op() + " " + r.caseId() + ": "
                                + r.outcome() + " " + r.detail()).toList()));
                    }
                }));
    }
}
