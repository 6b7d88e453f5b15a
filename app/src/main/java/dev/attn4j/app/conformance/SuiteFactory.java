package dev.attn4j.app.conformance;

import dev.attn4j.conformance.ConformanceSuite;

/**
 * Builds the conformance suite for one run of {@code attn4j conformance}.
 *
 * <pre>{@code
 * ConformanceSuite suite = SuiteFactory.standard().create(8, 42L);   // 8 cases per op family, seed 42
 * ConformanceSuite full = SuiteFactory.standard().create(null, null); // the standard suite
 * }</pre>
 */
@FunctionalInterface
public interface SuiteFactory {
    /**
     * The suite with {@code cases} random configurations per op family (attention and normalisation; each
     * gives a forward and a backward case), or the standard suite's counts when {@code cases} is
     * {@code null}; both {@code null} is the standard suite itself (which honours its system properties).
     *
     * @param cases configurations per op family, positive, or {@code null}
     * @param seed  seed of the random cases, or {@code null} for the suite's own
     */
    ConformanceSuite create(Integer cases, Long seed);

    /** The conformance module's own suites. */
    static SuiteFactory standard() {
        return (cases, seed) -> cases == null && seed == null
                ? ConformanceSuite.standard()
                : ConformanceSuite.of(cases == null ? ConformanceSuite.STANDARD_ATTENTION : cases,
                        cases == null ? ConformanceSuite.STANDARD_NORM : cases,
                        seed == null ? ConformanceSuite.SEED : seed);
    }
}
