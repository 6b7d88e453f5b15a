package dev.attn4j.conformance;

/**
 * The outcome of one case on one backend.
 *
 * <pre>{@code
 * CaseResult r = suite.run(c, backend);
 * if (r.outcome() == Outcome.FAILED) System.err.println(r.caseId() + ": " + r.detail());
 * }</pre>
 *
 * @param op         the op
 * @param backend    the backend's name
 * @param caseId     a stable, readable id of the case (its parameters)
 * @param outcome    what happened
 * @param errorRatio worst {@code max|golden − test| / tolerance} over the case's outputs (≤ 1 passes);
 *                   {@code NaN} when the case did not run
 * @param detail     the reason for a failure, unsupported capability or skip; empty when passed
 */
public record CaseResult(Op op, String backend, String caseId, Outcome outcome, double errorRatio, String detail) {
}
