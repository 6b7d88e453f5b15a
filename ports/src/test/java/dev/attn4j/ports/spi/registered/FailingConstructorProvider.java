package dev.attn4j.ports.spi.registered;

import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;

/**
 * Registered in the test META-INF/services; its constructor fails the way a provider that eagerly touches a
 * missing vendor class would, so {@link java.util.ServiceLoader} raises a ServiceConfigurationError.
 */
public final class FailingConstructorProvider implements BackendProvider {
    /** Always throws. */
    public FailingConstructorProvider() {
        throw new IllegalStateException("vendor runtime missing");
    }

    @Override
    public String name() {
        return "failing";
    }

    @Override
    public int priority() {
        return 1000;
    }

    @Override
    public Availability probe() {
        return Availability.available("unreachable", java.util.List.of());
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        throw new AssertionError("unreachable");
    }
}
