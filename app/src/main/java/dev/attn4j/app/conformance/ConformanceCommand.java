package dev.attn4j.app.conformance;

import dev.attn4j.app.BackendChoice;
import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.console.Progress;
import dev.attn4j.app.console.TextTable;
import dev.attn4j.conformance.CaseResult;
import dev.attn4j.conformance.ConformanceSuite;
import dev.attn4j.conformance.Outcome;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code attn4j conformance}: runs the shared conformance suite (the {@code conformance-tests} module's,
 * the same the JUnit build runs) on every available backend, or on the named ones, and prints one row per
 * op × backend. Unavailable backends are listed as skipped with their probe's reason; cases needing an
 * undeclared capability as unsupported. Exits 1 when any case fails or a named backend cannot run.
 */
@Command(name = "conformance", mixinStandardHelpOptions = true,
        description = "Run the conformance suite on every backend found (or the named ones) against the float64 oracle.")
public final class ConformanceCommand implements Callable<Integer> {
    /** Bytes of one suite configuration (measured 141) and of one case's result, rounded up generously. */
    static final long BYTES_PER_CONFIGURATION = 256;
    static final long BYTES_PER_RESULT = 512;
    private static final double GIB = 1L << 30;
    /** Failed cases listed one per line under the table; the rest are counted (all are in the report). */
    static final int MAX_FAILURES_LISTED = 20;

    private final CliEnvironment env;

    @Spec
    CommandSpec spec;

    @Option(names = "--backend", paramLabel = "NAME", split = ",",
            description = "Backend to run (repeatable or comma-separated). Default: every backend on the class path.")
    List<String> backends = new ArrayList<>();

    @Option(names = "--cases", paramLabel = "N",
            description = "Random configurations per op family (attention, normalisation), each run forward and "
                    + "backward, instead of the standard suite's " + ConformanceSuite.STANDARD_ATTENTION + " + "
                    + ConformanceSuite.STANDARD_NORM + " (1 to " + ConformanceSuite.MAX_CASES + "). Without --cases and --seed the "
                    + "standard suite also runs its systematic cases: the attention feature grid, its BHSD sample, rotary, "
                    + "the non-finite attention cases and every model op (linear, activations, element-wise, embedding, "
                    + "loss, optimizer, random, tensor ops).")
    Integer cases;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the random cases (default: the standard suite's).")
    Long seed;

    @Option(names = "--report", paramLabel = "DIR",
            description = "Also write " + ConformanceReport.SUMMARY_FILE + ", " + ConformanceReport.CASES_FILE
                    + " and " + ConformanceReport.HTML_FILE + " into DIR.")
    Path report;

    /** A command taking its backends and suite from {@code env}. */
    public ConformanceCommand(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        Logger log = LoggerFactory.getLogger(ConformanceCommand.class);
        if (cases != null && (cases < 1 || cases > ConformanceSuite.MAX_CASES)) {
            throw new ParameterException(spec.commandLine(), "--cases: expected 1 to " + ConformanceSuite.MAX_CASES
                    + ", got " + cases);
        }
        BackendSelector selector = env.selector().get();
        List<ProviderStatus> targets = BackendChoice.targets(spec.commandLine(), selector, backends);
        boolean named = BackendChoice.named(selector, backends);
        if (cases != null) {
            requireHeap(cases, targets.size());
        }
        ConformanceSuite suite;
        try {
            suite = env.suites().create(cases, seed);
        } catch (IllegalArgumentException e) {
            // e.g. -Dattn4j.conformance.cases=abc: the suite names the property and what it expected
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        int perBackend = suite.cases().size();
        log.debug("{} cases per backend, backends: {}", perBackend, targets.stream().map(ProviderStatus::name).toList());

        PrintWriter out = env.out();
        List<CaseResult> results = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        int ran = 0;
        for (ProviderStatus target : targets) {
            if (!target.availability().available()) {
                results.addAll(suite.skipAll(target.name(), target.availability().reason()));
                if (named) {
                    problems.add("backend '" + target.name() + "' was requested but is unavailable: "
                            + target.availability().reason());
                }
                continue;
            }
            results.addAll(runOn(selector, target, suite, perBackend, problems));
            ran++;
        }
        if (ran == 0 && problems.isEmpty()) {
            problems.add("no backend could run: " + targets.stream().map(t -> t.name()).collect(Collectors.joining(", ")));
        }

        List<OpSummary> summaries = OpSummary.of(results);
        print(summaries, out);
        listFailures(results, out);
        if (report != null) {
            Path written = new ConformanceReport(report).write(summaries, results);
            out.println("report: " + written);
        }
        long failed = results.stream().filter(r -> r.outcome() == Outcome.FAILED).count();
        if (failed > 0) {
            problems.add(failed + " case(s) failed");
        }
        problems.forEach(p -> env.err().println("conformance: " + p));
        out.println(problems.isEmpty() ? "conformance: all cases that ran passed" : "conformance: FAILED");
        return problems.isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /**
     * Refuses a sweep whose cases and results cannot fit the heap, before building it: each configuration per op
     * family makes an attention and a normalisation configuration, each run forward and backward, with a result
     * per backend. The figures are measured sizes (about 141 bytes per configuration), rounded up.
     */
    private void requireHeap(int cases, int backendCount) {
        long need = (long) cases * (2 * BYTES_PER_CONFIGURATION + 4L * BYTES_PER_RESULT * Math.max(1, backendCount));
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (need > available) {
            throw new ParameterException(spec.commandLine(), String.format(Locale.ROOT, "--cases: %d configurations on %d "
                    + "backend(s) need about %.1f GiB of Java heap for their cases and results, but this JVM can use "
                    + "%.1f GiB; ask for fewer (or raise -Xmx)", cases, backendCount, need / GIB, available / GIB));
        }
    }

    private List<CaseResult> runOn(BackendSelector selector, ProviderStatus target, ConformanceSuite suite, int total,
                                   List<String> problems) {
        Backend backend;
        try {
            backend = selector.open(target.name(), BackendOptions.none());
        } catch (RuntimeException | LinkageError e) {
            // Available by its probe but would not open: every case of it failed, visibly.
            String reason = "could not open: " + (e.getMessage() != null ? e.getMessage() : e.toString());
            problems.add("backend '" + target.name() + "' " + reason);
            return suite.skipAll(target.name(), reason).stream()
                    .map(r -> new CaseResult(r.op(), r.backend(), r.caseId(), Outcome.FAILED, Double.NaN, reason))
                    .toList();
        }
        try (backend; Progress progress = env.progress().start(target.name(), total)) {
            return suite.runAll(backend, r -> progress.step());
        }
    }

    private static void print(List<OpSummary> summaries, PrintWriter out) {
        TextTable table = new TextTable("OP", "BACKEND", "CASES", "PASSED", "FAILED", "UNSUPPORTED", "SKIPPED",
                "WORST ERR/TOL", "REASON");
        for (OpSummary s : summaries) {
            table.row(s.op(), s.backend(), s.cases(), s.passed(), s.failed(), s.unsupported(), s.skipped(),
                    TextTable.right(s.worstErrorRatio() == null ? "-" : String.format(Locale.ROOT, "%.3g", s.worstErrorRatio())),
                    abbreviate(s.reason(), 90));
        }
        table.print(out);
    }

    private static void listFailures(List<CaseResult> results, PrintWriter out) {
        List<CaseResult> failures = results.stream().filter(r -> r.outcome() == Outcome.FAILED).toList();
        if (failures.isEmpty()) {
            return;
        }
        out.println();
        out.println("failed cases:");
        failures.stream().limit(MAX_FAILURES_LISTED).forEach(r -> out.println("  " + r.backend() + " " + r.op() + " "
                + r.caseId() + (Double.isFinite(r.errorRatio())
                ? String.format(Locale.ROOT, " (err/tol %.3g)", r.errorRatio()) : "") + ": " + r.detail()));
        if (failures.size() > MAX_FAILURES_LISTED) {
            out.println("  ... and " + (failures.size() - MAX_FAILURES_LISTED) + " more (see --report)");
        }
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }
}
