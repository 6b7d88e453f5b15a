package dev.attn4j.app.conformance;

import dev.attn4j.conformance.CaseResult;
import dev.attn4j.conformance.Op;
import dev.attn4j.conformance.Outcome;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class OpSummaryTest {

    @Test
    void countsOutcomesPerBackendAndOpInFirstSeenOrder() {
        List<CaseResult> results = List.of(
                new CaseResult(Op.NORM_FORWARD, "cpu", "n0", Outcome.PASSED, 0.1, ""),
                new CaseResult(Op.ATTENTION_FORWARD, "cpu", "a0", Outcome.FAILED, 3.0, "o: too far"),
                new CaseResult(Op.NORM_FORWARD, "cpu", "n1", Outcome.FAILED, Double.NaN, "y: NaN"),
                new CaseResult(Op.NORM_FORWARD, "cuda", "n0", Outcome.SKIPPED, Double.NaN, "no driver"),
                new CaseResult(Op.NORM_FORWARD, "cpu", "n2", Outcome.UNSUPPORTED, Double.NaN, "FUSED_RESIDUAL_NORM"));

        List<OpSummary> s = OpSummary.of(results);

        assertEquals(List.of(
                new OpSummary("norm_forward", "cpu", 3, 1, 1, 1, 0, "failed: y: NaN; unsupported: FUSED_RESIDUAL_NORM", 0.1),
                new OpSummary("attention_forward", "cpu", 1, 0, 1, 0, 0, "failed: o: too far", 3.0),
                new OpSummary("norm_forward", "cuda", 1, 0, 0, 0, 1, "skipped: no driver", null)), s);
    }

    @Test
    void aNaNOutputMakesTheWorstRatioInfinite() {
        OpSummary s = OpSummary.of(List.of(
                new CaseResult(Op.NORM_BACKWARD, "cpu", "n0", Outcome.PASSED, 0.5, ""),
                new CaseResult(Op.NORM_BACKWARD, "cpu", "n1", Outcome.FAILED, Double.POSITIVE_INFINITY, "dx: NaN"))).getFirst();

        assertEquals(Double.POSITIVE_INFINITY, s.worstErrorRatio());
    }

    @Test
    void listsAFewDistinctReasonsThenCountsTheRest() {
        List<CaseResult> results = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            results.add(new CaseResult(Op.ATTENTION_FORWARD, "cpu", "a" + i, Outcome.UNSUPPORTED, Double.NaN, "r" + i % 6));
        }

        OpSummary s = OpSummary.of(results).getFirst();

        assertEquals("unsupported: r0, r1, r2, r3 and 2 more", s.reason());
        assertNull(s.worstErrorRatio());
    }
}
