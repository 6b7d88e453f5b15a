package dev.attn4j.backend.cpu;

import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;
import dev.attn4j.ports.spi.DeviceKind;

import java.util.List;

/**
 * Provider of the {@code cpu} backend. Pure Java, so it is always available.
 *
 * <p>Options ({@code -Dattn4j.cpu.<key>=...}): {@code threads} — worker threads (default: available
 * processors).
 *
 * <pre>{@code
 * try (Backend cpu = Backends.open("cpu")) { ... }
 * }</pre>
 */
public final class CpuBackendProvider implements BackendProvider {

    /** The provider {@link java.util.ServiceLoader} makes; it loads nothing until probed or opened. */
    public CpuBackendProvider() {
    }

    @Override
    public String name() {
        return CpuEngine.NAME;
    }

    @Override
    public int priority() {
        return PRIORITY_CPU;
    }

    @Override
    public Availability probe() {
        int cores = Runtime.getRuntime().availableProcessors();
        return Availability.available(Simd.description() + ", " + cores + " hardware threads",
                List.of("cpu: " + System.getProperty("os.arch") + ", " + cores + " threads"), DeviceKind.HOST);
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        return new CpuEngine(options.getInt("threads", Runtime.getRuntime().availableProcessors()));
    }
}
