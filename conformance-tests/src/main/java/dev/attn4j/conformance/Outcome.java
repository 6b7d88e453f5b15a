package dev.attn4j.conformance;

/**
 * What happened to one conformance case on one backend. Only {@link #PASSED} counts as passed;
 * {@link #UNSUPPORTED} (the backend did not declare a capability the case needs) and {@link #SKIPPED}
 * (the backend is unavailable here) are reported with their reason, never folded into passes.
 */
public enum Outcome {
    /** Within tolerance by the pass rule of docs/design.md §7. */
    PASSED,
    /** Outside tolerance, NaN, or the backend threw. */
    FAILED,
    /** The backend does not declare a capability the case needs. */
    UNSUPPORTED,
    /** The backend is unavailable on this machine. */
    SKIPPED
}
