package dev.attn4j.app;

import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Which backends a command runs on: those named with {@code --backend}, else the one named by
 * {@code -Dattn4j.backend} / {@code ATTN4J_BACKEND}, else every backend found. A name that matches no provider
 * is bad input (exit 2, one line naming where it came from and the providers found), before anything runs;
 * a backend named either way that turns out unavailable is the command's failure to report (exit 1).
 *
 * <pre>{@code
 * List<ProviderStatus> targets = BackendChoice.targets(spec.commandLine(), selector, backends);
 * }</pre>
 */
public final class BackendChoice {
    /** How an error names the system property and environment variable that request a backend. */
    static final String REQUESTED = "-D" + BackendSelector.PROPERTY + " / " + BackendSelector.ENVIRONMENT;

    private BackendChoice() {
    }

    /** The statuses to run, in the order named (or discovery order), each once. */
    public static List<ProviderStatus> targets(CommandLine cl, BackendSelector selector, List<String> named) {
        List<ProviderStatus> found = selector.survey();
        if (named.isEmpty()) {
            String requested = selector.requestedName();
            return requested == null ? found : List.of(find(cl, found, requested, REQUESTED));
        }
        List<ProviderStatus> chosen = new ArrayList<>();
        for (String raw : named) {
            ProviderStatus match = find(cl, found, raw, "--backend");
            if (!chosen.contains(match)) {
                chosen.add(match);
            }
        }
        return chosen;
    }

    /** Whether {@link #targets} ran on names the user gave (so an unavailable one is a failure, not a skip). */
    public static boolean named(BackendSelector selector, List<String> named) {
        return !named.isEmpty() || selector.requestedName() != null;
    }

    /**
     * Checks a single backend name ({@code --backend}, or the property/environment when it is {@code null}) names a
     * provider that was found; the selector then opens it or reports why it cannot.
     */
    public static void requireKnown(CommandLine cl, BackendSelector selector, String named) {
        List<ProviderStatus> found = selector.survey();
        if (named != null) {
            find(cl, found, named, "--backend");
        } else if (selector.requestedName() != null) {
            find(cl, found, selector.requestedName(), REQUESTED);
        }
    }

    private static ProviderStatus find(CommandLine cl, List<ProviderStatus> found, String raw, String where) {
        String name = raw.strip();
        Optional<ProviderStatus> match = found.stream().filter(s -> s.name().equalsIgnoreCase(name)).findFirst();
        if (match.isEmpty()) {
            throw new ParameterException(cl, where + ": unknown backend '" + raw + "', expected one of "
                    + (found.isEmpty() ? "(no provider found)" : found.stream().map(ProviderStatus::name)
                    .collect(Collectors.joining(", "))));
        }
        return match.get();
    }
}
