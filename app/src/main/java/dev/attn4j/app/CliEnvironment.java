package dev.attn4j.app;

import dev.attn4j.app.console.ProgressFactory;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.ports.spi.BackendSelector;

import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What the commands get from the outside world: where backends come from, how the conformance suite is
 * built, where text goes, and whether a progress bar may be drawn. The real one reads the class path and
 * the console; tests inject their own backends and writers.
 *
 * <pre>{@code
 * CliEnvironment env = new CliEnvironment(() -> new BackendSelector(List.of(provider), k -> null, k -> null),
 *         SuiteFactory.standard(), out, err, ProgressFactory.none());
 * int code = Attn4jCli.run(env, "conformance", "--cases", "2");
 * }</pre>
 *
 * @param selector  makes the backend selector (one per command run)
 * @param suites    builds the conformance suite
 * @param out       standard output: tables and results
 * @param err       standard error: errors and warnings
 * @param progress  draws progress (on the console's standard error), or nothing
 */
public record CliEnvironment(Supplier<BackendSelector> selector, SuiteFactory suites, PrintWriter out, PrintWriter err,
                             ProgressFactory progress) {

    /** Requires every part. */
    public CliEnvironment {
        Objects.requireNonNull(selector, "selector");
        Objects.requireNonNull(suites, "suites");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(err, "err");
        Objects.requireNonNull(progress, "progress");
    }

    /**
     * The real environment: providers from {@link java.util.ServiceLoader}, the standard suite, the process's
     * standard streams, and a progress bar on standard error when it is a terminal.
     */
    public static CliEnvironment system() {
        Charset charset = System.out.charset();
        var console = System.console();
        boolean interactive = console != null && console.isTerminal();
        return new CliEnvironment(BackendSelector::fromServiceLoader, SuiteFactory.standard(),
                new PrintWriter(System.out, true, charset), new PrintWriter(System.err, true, System.err.charset()),
                interactive ? ProgressFactory.console(System.err) : ProgressFactory.none());
    }
}
