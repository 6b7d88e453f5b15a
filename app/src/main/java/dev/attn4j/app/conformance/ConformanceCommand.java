package dev.attn4j.app.conformance;

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
import java.util.Optional;
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
                    + ConformanceSuite.STANDARD_NORM + " (a positive number). Without --cases and --seed the "
                    + "standard suite also runs its systematic cases: the attention feature grid, its BHSD sample, rotary and "
                    + "every model op (linear, activations, element-wise, embedding, loss, optimizer, random, tensor ops).")
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
        if (cases != null && cases < 1) {
            throw new ParameterException(spec.commandLine(), "--cases: expected a positive number, got " + cases);
        }
        BackendSelector selector = env.selector().get();
        List<ProviderStatus> targets = targets(selector.survey());
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
                if (!backends.isEmpty()) {
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

    /** The statuses to run, in the order named (or discovery order); an unknown name is bad input. */
    private List<ProviderStatus> targets(List<ProviderStatus> found) {
        if (backends.isEmpty()) {
            return found;
        }
        List<ProviderStatus> chosen = new ArrayList<>();
        for (String raw : backends) {
            String name = raw.strip().toLowerCase(Locale.ROOT);
            Optional<ProviderStatus> match = found.stream().filter(s -> s.name().equalsIgnoreCase(name)).findFirst();
            if (match.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--backend: unknown backend '" + raw
                        + "', expected one of " + found.stream().map(ProviderStatus::name).collect(Collectors.joining(", ")));
            }
            if (!chosen.contains(match.get())) {
                chosen.add(match.get());
            }
        }
        return chosen;
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
