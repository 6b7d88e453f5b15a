package dev.attn4j.conformance.hostile;

import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;

import java.util.List;

/** The available backends on the test class path (every one the suite runs on), by name. */
final class Backends {
    private Backends() {
    }

    static BackendSelector selector() {
        return BackendSelector.fromServiceLoader();
    }

    static List<String> available(BackendSelector selector) {
        return selector.survey().stream().filter(s -> s.availability().available()).map(ProviderStatus::name).toList();
    }
}
