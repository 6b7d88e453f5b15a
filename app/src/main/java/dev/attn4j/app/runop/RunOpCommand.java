package dev.attn4j.app.runop;

import dev.attn4j.app.BackendChoice;
import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.conformance.fixtures.AttentionFixture;
import dev.attn4j.conformance.fixtures.FixtureFormatException;
import dev.attn4j.conformance.fixtures.HostTensor;
import dev.attn4j.conformance.fixtures.OutputCheck;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code attn4j run-op CASE.safetensors --out RESULT.safetensors [--backend NAME]}: replays one recorded
 * attention case (docs/design.md §7's fixture format) on one backend and writes its outputs, so that a case recorded
 * on one machine can be checked on another. When the case carries expected outputs and their reference
 * errors, each output is also checked by the pass rule and the command exits 1 if one fails.
 * A malformed or hostile file is rejected (exit 2) before anything it claims is allocated.
 */
@Command(name = "run-op", mixinStandardHelpOptions = true,
        description = "Replay one attention case (a safetensors fixture) on a backend and write its outputs.")
public final class RunOpCommand implements Callable<Integer> {
    private final CliEnvironment env;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CASE.safetensors", description = "The case: inputs, options, maybe expected outputs.")
    Path input;

    @Option(names = "--out", required = true, paramLabel = "RESULT.safetensors", description = "Where to write o, lse (+ dq, dk, dv).")
    Path output;

    @Option(names = "--backend", paramLabel = "NAME", description = "Backend to run on (default: the selected one).")
    String backend;

    /** A command reading backends from {@code env}. */
    public RunOpCommand(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        if (!Files.isRegularFile(input)) {
            throw new ParameterException(spec.commandLine(), "CASE.safetensors: no such file: " + input);
        }
        AttentionFixture fixture;
        try {
            fixture = AttentionFixture.read(input);
        } catch (FixtureFormatException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        BackendSelector selector = env.selector().get();
        // An unknown name is bad input (exit 2) before anything runs; an unavailable one is a failure (exit 1).
        BackendChoice.requireKnown(spec.commandLine(), selector, backend);
        PrintWriter out = env.out();
        try (Backend be = backend == null ? selector.open(BackendOptions.none()) : selector.open(backend, BackendOptions.none())) {
            Map<String, HostTensor> results = fixture.replay(be);
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("backend", be.name());
            metadata.put("case", fixture.name());
            metadata.put("op", fixture.op().name().toLowerCase(java.util.Locale.ROOT));
            AttentionFixture.write(output, results, metadata);
            out.println(fixture.name() + " on " + be.name() + ": wrote " + String.join(", ", results.keySet()) + " to " + output);
            if (!hasExpectations(fixture)) {
                return ExitCodes.OK;
            }
            List<OutputCheck> checks = fixture.check(results);
            boolean ok = true;
            for (OutputCheck c : checks) {
                out.printf("  %-4s max|expected - %s| = %.3e  tolerance %.3e  %s%n", c.output(), be.name(), c.maxAbsError(),
                        c.tolerance(), c.passed() ? "ok" : "FAILED");
                ok &= c.passed();
            }
            return ok ? ExitCodes.OK : ExitCodes.FAILED;
        }
    }

    private static boolean hasExpectations(AttentionFixture fixture) {
        for (String name : fixture.op().outputs()) {
            if (!fixture.expected().containsKey(name) || fixture.refError(name).isEmpty()) {
                return false;
            }
        }
        return true;
    }
}
