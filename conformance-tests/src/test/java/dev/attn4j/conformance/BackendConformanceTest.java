package dev.attn4j.conformance;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shared suite on every backend {@link java.util.ServiceLoader} finds on the test class path: one
 * container per provider, one test per case. A failed case fails with its detail; an undeclared capability
 * aborts its test as "unsupported"; an unavailable backend gives one aborted test, "skipped" with its probe's
 * reason. Neither counts as passed.
 *
 * <p>{@code -Dattn4j.conformance.sweep=large} or {@code -Dattn4j.conformance.cases=N} selects a larger sweep.
 */
class BackendConformanceTest {

    @TestFactory
    Stream<DynamicNode> everyBackendOnTheClassPath() {
        BackendSelector selector = BackendSelector.fromServiceLoader();
        List<ProviderStatus> found = selector.survey();
        assertFalse(found.isEmpty(), "no backend provider on the test class path (the cpu backend at least is expected)");
        ConformanceSuite suite = ConformanceSuite.standard();
        return found.stream().map(status -> {
            String name = status.name();
            if (!status.availability().available()) {
                String reason = status.availability().reason();
                return DynamicTest.dynamicTest(name + ": skipped", () -> Assumptions.abort("skipped: " + reason));
            }
            // flatMap defers opening the backend and running the suite until JUnit executes the container.
            return DynamicContainer.dynamicContainer(name, Stream.of(status).flatMap(s -> casesOn(selector, s, suite)));
        });
    }

    private static Stream<DynamicNode> casesOn(BackendSelector selector, ProviderStatus status, ConformanceSuite suite) {
        List<CaseResult> results;
        try (Backend backend = selector.open(status.name(), BackendOptions.none())) {
            results = suite.runAll(backend, r -> { });
            System.out.println(summary(status.name(), results));
        } catch (RuntimeException e) {
            return Stream.of(DynamicTest.dynamicTest(status.name() + ": open", () -> fail("could not open or close "
                    + status.name() + ": " + e, e)));
        }
        return results.stream().map(r -> DynamicTest.dynamicTest(r.op() + " " + r.caseId(), () -> verdict(r)));
    }

    /** One line per backend for the build log: counts per outcome. */
    static String summary(String backend, List<CaseResult> results) {
        java.util.Map<Outcome, Long> counts = new java.util.EnumMap<>(Outcome.class);
        for (CaseResult r : results) {
            counts.merge(r.outcome(), 1L, Long::sum);
        }
        return "conformance " + backend + ": " + results.size() + " cases, " + counts;
    }

    private static void verdict(CaseResult r) {
        switch (r.outcome()) {
            case PASSED -> { }
            case FAILED -> fail(r.backend() + " " + r.op() + " " + r.caseId() + ": " + r.detail());
            case UNSUPPORTED -> Assumptions.abort("unsupported: " + r.detail());
            case SKIPPED -> Assumptions.abort("skipped: " + r.detail());
        }
    }
}
