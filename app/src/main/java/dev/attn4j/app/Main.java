package dev.attn4j.app;

/**
 * Entry point of the executable jar ({@code ./attn4j} at the repository root runs it).
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar attn4j-app-all.jar backends
 * }</pre>
 */
public final class Main {
    private Main() {
    }

    /** Runs the command line and exits with its code: 0 ok, 1 failure, 2 bad input. */
    public static void main(String[] args) {
        System.exit(Attn4jCli.run(CliEnvironment.system(), args));
    }
}
