package dev.attn4j.ports;

import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;

import java.util.List;

/**
 * Entry point: opens the backend the class path and configuration select (docs/design.md §2).
 *
 * <pre>{@code
 * try (Backend backend = Backends.open()) {          // -Dattn4j.backend=opencl to choose
 *     System.out.println("running on " + backend.name());
 * }
 * }</pre>
 */
public final class Backends {
    private Backends() {
    }

    /**
     * Opens the selected backend with default options.
     *
     * @return the open backend; close it when done
     */
    public static Backend open() {
        return BackendSelector.fromServiceLoader().open(BackendOptions.none());
    }

    /**
     * Opens the named backend; an unavailable one is an error, never a fallback.
     *
     * @param name the name
     * @return the open backend; close it when done
     */
    public static Backend open(String name) {
        return BackendSelector.fromServiceLoader().open(name, BackendOptions.none());
    }

    /** {@return every provider on the class path with its probe result} */
    public static List<ProviderStatus> survey() {
        return BackendSelector.fromServiceLoader().survey();
    }
}
