package dev.attn4j.app;

import dev.attn4j.app.console.ProgressFactory;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.ports.spi.BackendProvider;
import dev.attn4j.ports.spi.BackendSelector;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.ServiceLoader;

/** Runs the command line in-process over chosen providers and captures what it prints. */
public final class CliHarness {
    private final List<BackendProvider> providers;
    private final SuiteFactory suites;
    private StringWriter out = new StringWriter();
    private StringWriter err = new StringWriter();

    public CliHarness(List<BackendProvider> providers, SuiteFactory suites) {
        this.providers = List.copyOf(providers);
        this.suites = suites;
    }

    /** The real cpu provider, found as the app finds it. */
    public static BackendProvider cpu() {
        return ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cpu")).findFirst()
                .orElseThrow(() -> new AssertionError("cpu provider not on the test class path"));
    }

    /** Runs {@code args}; a fresh capture each time. Ignores -Dattn4j.backend / ATTN4J_BACKEND of the build. */
    public int run(String... args) {
        return runRequesting(null, args);
    }

    /** Runs {@code args} as if {@code -Dattn4j.backend=requested} were set ({@code null}: not set). */
    public int runRequesting(String requested, String... args) {
        out = new StringWriter();
        err = new StringWriter();
        CliEnvironment env = new CliEnvironment(() -> new BackendSelector(providers,
                k -> k.equals(BackendSelector.PROPERTY) ? requested : null, k -> null), suites,
                new PrintWriter(out, true), new PrintWriter(err, true), ProgressFactory.none());
        return Attn4jCli.run(env, args);
    }

    public String out() {
        return out.toString();
    }

    public String err() {
        return err.toString();
    }
}
