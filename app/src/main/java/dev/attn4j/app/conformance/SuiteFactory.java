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
    /** The seed used when {@code --cases} is given without {@code --seed}. */
    long DEFAULT_SEED = 20_240_601L;

    /**
     * The suite with {@code cases} random cases per op family (attention and normalisation), or the
     * standard suite when {@code cases} is {@code null}.
     *
     * @param cases cases per op family, positive, or {@code null} for the standard suite
     * @param seed  seed of the random cases, or {@code null} for the default
     */
    ConformanceSuite create(Integer cases, Long seed);

    /** The conformance module's own suites. */
    static SuiteFactory standard() {
        return (cases, seed) -> cases == null && seed == null
                ? ConformanceSuite.standard()
                : ConformanceSuite.of(cases == null ? STANDARD_CASES : cases, cases == null ? STANDARD_CASES : cases,
                        seed == null ? DEFAULT_SEED : seed);
    }

    /** Cases per op family when only a seed is given. */
    int STANDARD_CASES = 24;
}
