package dev.attn4j.app;

import dev.attn4j.app.adapters.MergeCommand;
import dev.attn4j.app.backends.BackendsCommand;
import dev.attn4j.app.bench.BenchCommand;
import dev.attn4j.app.runop.RunOpCommand;
import dev.attn4j.app.conformance.ConformanceCommand;
import dev.attn4j.app.train.ForwardCommand;
import dev.attn4j.app.train.GenerateCommand;
import dev.attn4j.app.train.MakeDataCommand;
import dev.attn4j.app.train.TrainCommand;
import dev.attn4j.ports.InvalidRequestException;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;
import java.util.Arrays;

/**
 * Builds and runs the {@code attn4j} command line. Errors are one line on standard error (with the stack
 * trace only under {@code --verbose}); exit codes are those of {@link ExitCodes}.
 *
 * <pre>{@code
 * int code = Attn4jCli.run(CliEnvironment.system(), "conformance", "--backend", "cpu");
 * }</pre>
 */
public final class Attn4jCli {
    /** slf4j-simple's level for attn4j's own loggers (the JDK's and libraries' stay at the default). */
    private static final String SIMPLE_LOGGER_LEVEL = "org.slf4j.simpleLogger.log.dev.attn4j";

    private Attn4jCli() {
    }

    /** Runs the command line on {@code args} and returns the exit code. */
    public static int run(CliEnvironment env, String... args) {
        int code = commandLine(env).execute(args);
        env.out().flush();
        env.err().flush();
        return code;
    }

    /** The command line with every subcommand wired to {@code env}. */
    public static CommandLine commandLine(CliEnvironment env) {
        CommandLine cl = new CommandLine(new Attn4jCommand());
        cl.addSubcommand(new BackendsCommand(env));
        cl.addSubcommand(new ConformanceCommand(env));
        cl.addSubcommand(new BenchCommand(env));
        cl.addSubcommand(new RunOpCommand(env));
        cl.addSubcommand(new TrainCommand(env));
        cl.addSubcommand(new GenerateCommand(env));
        cl.addSubcommand(new ForwardCommand(env));
        cl.addSubcommand(new MakeDataCommand(env));
        cl.addSubcommand(new MergeCommand(env));
        cl.addSubcommand(new CommandLine.HelpCommand());
        cl.setOut(env.out());
        cl.setErr(env.err());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExitCodeExceptionMapper(e -> e instanceof ParameterException ? ExitCodes.BAD_INPUT : ExitCodes.FAILED);
        cl.setParameterExceptionHandler(Attn4jCli::badInput);
        cl.setExecutionExceptionHandler(Attn4jCli::failure);
        cl.setExecutionStrategy(parseResult -> {
            if (verbose(parseResult) && System.getProperty(SIMPLE_LOGGER_LEVEL) == null) {
                // slf4j-simple reads its level once, when the first logger is made; commands make theirs later.
                System.setProperty(SIMPLE_LOGGER_LEVEL, "debug");
            }
            return new CommandLine.RunLast().execute(parseResult);
        });
        return cl;
    }

    private static int badInput(ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        err.println(e.getCommandLine().getCommandName() + ": " + e.getMessage()
                + " (see '" + qualifiedName(e.getCommandLine()) + " --help')");
        if (Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-v")) {
            e.printStackTrace(err);
        }
        return ExitCodes.BAD_INPUT;
    }

    private static int failure(Exception e, CommandLine cl, ParseResult parseResult) {
        PrintWriter err = cl.getErr();
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        err.println(cl.getCommandName() + ": error: " + message);
        if (verbose(parseResult)) {
            e.printStackTrace(err);
        }
        // A request the ports reject before any work is bad input too (e.g. a head dim out of range).
        return e instanceof InvalidRequestException ? ExitCodes.BAD_INPUT : ExitCodes.FAILED;
    }

    private static boolean verbose(ParseResult parseResult) {
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    private static String qualifiedName(CommandLine cl) {
        return cl.getParent() == null ? cl.getCommandName() : qualifiedName(cl.getParent()) + " " + cl.getCommandName();
    }
}
