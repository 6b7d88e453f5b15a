package dev.attn4j.app.conformance;

import dev.attn4j.conformance.CaseResult;
import dev.attn4j.conformance.Outcome;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The results of one op on one backend, as one row of the summary table and one record of
 * {@code conformance.json}.
 *
 * <pre>{@code
 * List<OpSummary> rows = OpSummary.of(results);
 * boolean ok = rows.stream().allMatch(r -> r.failed() == 0);
 * }</pre>
 *
 * @param op              the op, e.g. {@code attention_forward}
 * @param backend         the backend's name
 * @param cases           how many cases of the op there were
 * @param passed          cases within tolerance
 * @param failed          cases outside tolerance, NaN, or that threw
 * @param unsupported     cases needing a capability the backend does not declare
 * @param skipped         cases not run because the backend is unavailable here
 * @param reason          the distinct reasons of the cases not passed (skip, unsupported capability, failure),
 *                        {@code "; "}-separated, at most {@value #MAX_REASONS} then a count; empty when all passed
 * @param worstErrorRatio the largest finite {@code max|golden − test| / tolerance} among the cases that ran
 *                        (≤ 1 passes), or {@code null} when none ran (a NaN output counts as failed instead)
 */
public record OpSummary(String op, String backend, int cases, int passed, int failed, int unsupported, int skipped,
                        String reason, Double worstErrorRatio) {

    /** Reasons listed in full before the rest are only counted. */
    public static final int MAX_REASONS = 4;

    /** One summary per (backend, op), in the order the results first name them. */
    public static List<OpSummary> of(List<CaseResult> results) {
        Map<List<String>, List<CaseResult>> groups = new LinkedHashMap<>();
        for (CaseResult r : results) {
            groups.computeIfAbsent(List.of(r.backend(), r.op()), k -> new ArrayList<>()).add(r);
        }
        List<OpSummary> summaries = new ArrayList<>();
        for (List<CaseResult> group : groups.values()) {
            summaries.add(summarize(group));
        }
        return List.copyOf(summaries);
    }

    private static OpSummary summarize(List<CaseResult> group) {
        int[] counts = new int[Outcome.values().length];
        Set<String> reasons = new LinkedHashSet<>();
        double worst = Double.NaN;
        for (CaseResult r : group) {
            counts[r.outcome().ordinal()]++;
            if (r.outcome() != Outcome.PASSED && r.detail() != null && !r.detail().isBlank()) {
                reasons.add(r.detail().strip());
            }
            if (Double.isFinite(r.errorRatio())) {
                worst = Double.isNaN(worst) ? r.errorRatio() : Math.max(worst, r.errorRatio());
            }
        }
        CaseResult first = group.getFirst();
        return new OpSummary(first.op(), first.backend(), group.size(), counts[Outcome.PASSED.ordinal()],
                counts[Outcome.FAILED.ordinal()], counts[Outcome.UNSUPPORTED.ordinal()],
                counts[Outcome.SKIPPED.ordinal()], joinReasons(reasons), Double.isNaN(worst) ? null : worst);
    }

    private static String joinReasons(Set<String> reasons) {
        List<String> listed = reasons.stream().limit(MAX_REASONS).toList();
        String joined = String.join("; ", listed);
        int rest = reasons.size() - listed.size();
        return rest > 0 ? joined + "; and " + rest + " more" : joined;
    }
}
