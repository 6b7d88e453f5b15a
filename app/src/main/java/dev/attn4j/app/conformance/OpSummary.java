package dev.attn4j.app.conformance;

import dev.attn4j.conformance.CaseResult;
import dev.attn4j.conformance.Outcome;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
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
 * @param reason          why cases did not pass, by outcome: {@code failed: <detail> | <detail>; unsupported:
 *                        DROPOUT, ALIBI; skipped: <probe reason>}, distinct details only, long lists cut
 *                        with a count; empty when every case passed
 * @param worstErrorRatio the largest {@code max|golden − test| / tolerance} among the cases that ran (≤ 1
 *                        passes; infinite for a NaN output), or {@code null} when none ran
 */
public record OpSummary(String op, String backend, int cases, int passed, int failed, int unsupported, int skipped,
                        String reason, Double worstErrorRatio) {

    /** Distinct unsupported capabilities or skip reasons listed before the rest are only counted. */
    public static final int MAX_REASONS = 4;
    /** Distinct failure details listed (they are long; every case is in the per-case report). */
    public static final int MAX_FAILURE_REASONS = 2;

    /** One summary per (backend, op), in the order the results first name them. */
    public static List<OpSummary> of(List<CaseResult> results) {
        Map<List<String>, List<CaseResult>> groups = new LinkedHashMap<>();
        for (CaseResult r : results) {
            groups.computeIfAbsent(List.of(r.backend(), r.op().id()), k -> new ArrayList<>()).add(r);
        }
        List<OpSummary> summaries = new ArrayList<>();
        for (List<CaseResult> group : groups.values()) {
            summaries.add(summarize(group));
        }
        return List.copyOf(summaries);
    }

    private static OpSummary summarize(List<CaseResult> group) {
        Map<Outcome, Set<String>> reasons = new EnumMap<>(Outcome.class);
        int[] counts = new int[Outcome.values().length];
        double worst = Double.NaN;
        for (CaseResult r : group) {
            counts[r.outcome().ordinal()]++;
            if (r.outcome() != Outcome.PASSED && r.detail() != null && !r.detail().isBlank()) {
                reasons.computeIfAbsent(r.outcome(), o -> new LinkedHashSet<>()).add(r.detail().strip());
            }
            if (!Double.isNaN(r.errorRatio())) {
                worst = Double.isNaN(worst) ? r.errorRatio() : Math.max(worst, r.errorRatio());
            }
        }
        CaseResult first = group.getFirst();
        return new OpSummary(first.op().id(), first.backend(), group.size(), counts[Outcome.PASSED.ordinal()],
                counts[Outcome.FAILED.ordinal()], counts[Outcome.UNSUPPORTED.ordinal()],
                counts[Outcome.SKIPPED.ordinal()], joinReasons(reasons), Double.isNaN(worst) ? null : worst);
    }

    /** {@code failed: a | b; unsupported: DROPOUT, ALIBI; skipped: ...}, each list capped. */
    private static String joinReasons(Map<Outcome, Set<String>> reasons) {
        List<String> parts = new ArrayList<>();
        reasons.forEach((outcome, details) -> {
            int max = outcome == Outcome.FAILED ? MAX_FAILURE_REASONS : MAX_REASONS;
            List<String> listed = details.stream().limit(max).toList();
            int rest = details.size() - listed.size();
            parts.add(outcome.name().toLowerCase(Locale.ROOT) + ": "
                    + String.join(outcome == Outcome.FAILED ? " | " : ", ", listed)
                    + (rest > 0 ? " and " + rest + " more" : ""));
        });
        return String.join("; ", parts);
    }
}
