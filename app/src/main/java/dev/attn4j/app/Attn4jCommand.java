package dev.attn4j.app;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The top-level {@code attn4j} command: holds the global options; the work is done by its subcommands. */
@Command(name = "attn4j", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Attention and normalisation kernels for the JVM: list the backends found, prove they agree; "
                + "train, run and sample models.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:a check failed (conformance case, requested backend, device)",
                "2:bad input (unknown option or backend, bad number)"})
public final class Attn4jCommand implements Runnable {

    @Spec
    CommandSpec spec;

    /** Read by the error handlers through the parse result; declared here so every subcommand accepts it. */
    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Log what happens and print stack traces of errors.")
    boolean verbose;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: expected one of "
                + String.join(", ", spec.subcommands().keySet()));
    }
}
