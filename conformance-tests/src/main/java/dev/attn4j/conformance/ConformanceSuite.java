package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.attention.AttentionLayout;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The conformance suite: seeded attention and normalisation cases, run on a backend and judged by the pass
 * rule of docs/design.md §7 ({@link PassRule}) against the float64 oracle. The app's command and the JUnit suite
 * both use this class, so they run the same cases under the same rule.
 *
 * <p>Each attention configuration yields an {@code attention_forward} and an {@code attention_backward}
 * case, each normalisation configuration a {@code norm_forward} and a {@code norm_backward} case, each rotary
 * configuration a {@code rotary} and a {@code rotary_backward} case; in {@link #full} a sample of the attention
 * configurations runs again in the {@link AttentionLayout#BHSD BHSD} layout (ids ending in {@code bhsd}). Besides the random attention configurations,
 * {@link #standard()} holds the systematic {@link FeatureGrid}, the {@link RotaryConfig#standard rotary
 * configurations} and the {@link NonFiniteConfig non-finite rule's cases} (NaN and infinities in the inputs; they
 * do not depend on the seed). A suite is
 * immutable and {@link #run} keeps no state, so cases may run concurrently on backends that allow it.
 *
 * <pre>{@code
 * ConformanceSuite suite = ConformanceSuite.standard();
 * try (Backend backend = BackendSelector.fromServiceLoader().open("cpu", BackendOptions.none())) {
 *     List<CaseResult> results = suite.runAll(backend, r -> System.out.println(r.caseId() + " " + r.outcome()));
 * }
 * }</pre>
 */
public final class ConformanceSuite {
    /** The seed of the standard suite; ids are stable for it. */
    public static final long SEED = 0x5EED_A77E_2026L;
    /** Attention configurations of the standard (CI) suite: 300 core + 100 feature configurations. */
    public static final int STANDARD_ATTENTION = 400;
    /** Normalisation configurations of the standard suite: 100 F32 + 20 in reduced dtypes. */
    public static final int STANDARD_NORM = 120;
    /** System property: {@code large} selects the larger sweep. */
    public static final String SWEEP_PROPERTY = "attn4j.conformance.sweep";
    /** System property: a number of attention configurations (normalisation gets a third, at least 100). */
    public static final String CASES_PROPERTY = "attn4j.conformance.cases";
    /**
     * The most random configurations per op family a suite is built with: a million takes days to run and about
     * a gigabyte to hold with its results; more is a mistake (two billion ran the heap out of memory).
     */
    public static final int MAX_CASES = 1_000_000;
    private static final int LARGE_ATTENTION = 4000;
    /** Random attention configurations also run in the BHSD layout (the first ones). */
    static final int BHSD_RANDOM = 12;
    /** Every this many grid configurations one also runs in the BHSD layout. */
    static final int BHSD_GRID_STRIDE = 4;
    private static final int LARGE_NORM = 1200;

    /**
     * The op families whose configurations come with every sweep (fixed lists drawn from the seed), after the random
     * attention and normalisation configurations, in report order. A new op adds its configuration's
     * {@code standard} here.
     */
    private static final List<Function<Long, List<? extends CaseConfig>>> SYSTEMATIC = List.of(
            RotaryConfig::standard,
            LinearConfig::standard,
            MatmulConfig::standard,
            ActivationConfig::standard,
            ElementwiseConfig::standard,
            BroadcastMultiplyConfig::standard,
            TokenShiftConfig::standard,
            EmbeddingConfig::standard,
            CrossEntropyConfig::standard,
            AdamWConfig::standard,
            SumOfSquaresConfig::standard,
            UniformConfig::standard,
            TensorOpsConfig::standard,
            NonFiniteConfig::standard);

    private final List<ConformanceCase> cases;

    private ConformanceSuite(List<ConformanceCase> cases) {
        this.cases = List.copyOf(cases);
    }

    /**
     * The suite CI runs: {@value #STANDARD_ATTENTION} attention and {@value #STANDARD_NORM} normalisation
     * configurations, unless {@code -Dattn4j.conformance.sweep=large} (ten times as many) or
     * {@code -Dattn4j.conformance.cases=N} asks for more.
     *
     * @return the suite
     * @throws IllegalArgumentException when a property holds an unknown value
     */
    public static ConformanceSuite standard() {
        String count = System.getProperty(CASES_PROPERTY);
        if (count != null && !count.isBlank()) {
            int n;
            try {
                n = Integer.parseInt(count.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + CASES_PROPERTY + ": expected a positive integer, got '" + count + "'", e);
            }
            if (n < 1 || n > MAX_CASES) {
                throw new IllegalArgumentException("-D" + CASES_PROPERTY + ": expected 1 to " + MAX_CASES + ", got " + n);
            }
            return full(n, Math.max(100, n / 3), SEED);
        }
        String sweep = System.getProperty(SWEEP_PROPERTY, "standard").trim().toLowerCase(Locale.ROOT);
        return switch (sweep) {
            case "", "standard" -> full(STANDARD_ATTENTION, STANDARD_NORM, SEED);
            case "large" -> full(LARGE_ATTENTION, LARGE_NORM, SEED);
            default -> throw new IllegalArgumentException("-D" + SWEEP_PROPERTY + ": expected 'standard' or 'large', got '"
                    + sweep + "'");
        };
    }

    /**
     * A suite of random cases only: {@code attentionCases} attention configurations (every fourth a feature
     * configuration) and {@code normCases} normalisation configurations, drawn from {@code seed}.
     *
     * @param attentionCases attention configurations
     * @param normCases normalisation configurations
     * @param seed the seed
     * @return the suite
     */
    public static ConformanceSuite of(int attentionCases, int normCases, long seed) {
        return build(attentionCases, normCases, seed, false);
    }

    /**
     * The random cases of {@link #of} plus the {@link FeatureGrid} (after the random attention cases), the
     * rotary cases, all drawn from {@code seed}, and the {@link NonFiniteConfig non-finite cases} (last, fixed).
     * {@link #standard()} is {@code full(400, 120, SEED)}.
     *
     * @param attentionCases attention configurations
     * @param normCases normalisation configurations
     * @param seed the seed
     * @return the suite
     */
    public static ConformanceSuite full(int attentionCases, int normCases, long seed) {
        return build(attentionCases, normCases, seed, true);
    }

    private static ConformanceSuite build(int attentionCases, int normCases, long seed, boolean systematic) {
        if (attentionCases < 0 || normCases < 0 || attentionCases > MAX_CASES || normCases > MAX_CASES) {
            throw new IllegalArgumentException("case counts must be 0 to " + MAX_CASES + ", got " + attentionCases
                    + " and " + normCases);
        }
        List<AttentionConfig> random = CaseGenerator.attention(attentionCases, seed);
        List<CaseConfig> configs = new ArrayList<>(random);
        if (systematic) {
            List<AttentionConfig> grid = FeatureGrid.configurations(seed);
            configs.addAll(grid);
            // PyTorch's [B, H, S, D] layout on a sample that still covers every feature: the first random
            // configurations (sizes, dtypes) and every BHSD_GRID_STRIDE-th grid cell (masks, biases, dropout).
            List<AttentionConfig> bhsd = new ArrayList<>(random.subList(0, Math.min(BHSD_RANDOM, attentionCases)));
            for (int i = 1; i < grid.size(); i += BHSD_GRID_STRIDE) {
                bhsd.add(grid.get(i));
            }
            for (AttentionConfig c : bhsd) {
                configs.add(new AttentionLayoutConfig(c, AttentionLayout.BHSD));
            }
        }
        configs.addAll(CaseGenerator.norm(normCases, seed));
        if (systematic) {
            for (Function<Long, List<? extends CaseConfig>> family : SYSTEMATIC) {
                configs.addAll(family.apply(seed));
            }
        }
        List<ConformanceCase> all = new ArrayList<>();
        for (CaseConfig c : configs) {
            for (Op op : c.ops()) {
                all.add(new ConformanceCase(op, c));
            }
        }
        return new ConformanceSuite(all);
    }

    /**
     * {@return every case: attention (random, grid, the BHSD sample), normalisation, then each systematic family
     * (the non-finite cases among them); each configuration's ops in order}
     */
    public List<ConformanceCase> cases() {
        return cases;
    }

    /**
     * Runs one case. Never throws for what the backend does: an {@link UnsupportedCapabilityException}
     * gives {@link Outcome#UNSUPPORTED} (detail: the capability), any other exception {@link Outcome#FAILED}
     * (detail: the exception), outputs outside tolerance or NaN {@link Outcome#FAILED} (detail: the checks).
     *
     * @param c the cap
     * @param backend the backend to run on
     * @return the case's outcome
     */
    public CaseResult run(ConformanceCase c, Backend backend) {
        String name = backend.name();
        List<PassRule.Check> checks;
        try {
            checks = c.execute(backend);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            UnsupportedCapabilityException unsupported = unsupportedCause(e);
            if (unsupported != null) {
                return new CaseResult(c.op(), name, c.id(), Outcome.UNSUPPORTED, Double.NaN, unsupported.capability());
            }
            return new CaseResult(c.op(), name, c.id(), Outcome.FAILED, Double.NaN, "threw " + e);
        }
        double worst = 0;
        boolean passed = true;
        StringBuilder failures = new StringBuilder();
        if (checks.isEmpty()) {
            return new CaseResult(c.op(), name, c.id(), Outcome.FAILED, Double.NaN, "the case checked no output");
        }
        for (PassRule.Check check : checks) {
            worst = Double.isNaN(check.ratio()) || check.nan() ? Double.POSITIVE_INFINITY : Math.max(worst, check.ratio());
            if (!check.passed()) {
                passed = false;
                failures.append(failures.isEmpty() ? "" : "; ").append(check.describe());
            }
        }
        return passed
                ? new CaseResult(c.op(), name, c.id(), Outcome.PASSED, worst, "")
                : new CaseResult(c.op(), name, c.id(), Outcome.FAILED, worst, failures.toString());
    }

    /**
     * Runs every case in order, handing each result to {@code progress} as it comes.
     *
     * @param backend the backend to run on
     * @param progress called with each result as it comes, or null
     * @return one result per case, in order
     */
    public List<CaseResult> runAll(Backend backend, Consumer<CaseResult> progress) {
        List<CaseResult> results = new ArrayList<>(cases.size());
        for (ConformanceCase c : cases) {
            CaseResult r = run(c, backend);
            results.add(r);
            if (progress != null) {
                progress.accept(r);
            }
        }
        return results;
    }

    /**
     * {@return one {@link Outcome#SKIPPED} result per case, for a backend that is unavailable, with the reason}
     *
     * @param backend the backend's name
     * @param reason why
     */
    public List<CaseResult> skipAll(String backend, String reason) {
        return cases.stream()
                .map(c -> new CaseResult(c.op(), backend, c.id(), Outcome.SKIPPED, Double.NaN, reason))
                .toList();
    }

    private static UnsupportedCapabilityException unsupportedCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnsupportedCapabilityException u) {
                return u;
            }
        }
        return null;
    }
}
