package dev.attn4j.backend.opencl;

import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;

/**
 * Provider of the {@code opencl} backend. Constructing it touches no JOCL class: the natives are loaded on
 * the first {@link #probe()} or {@link #open}, inside {@link Devices}, and every failure to load them
 * becomes a reason instead of an error.
 *
 * <p>Options ({@code -Dattn4j.opencl.<key>=...}): {@code device} — the device's index in
 * {@link #probe()}'s list, or a case-insensitive substring of its name or platform; by default the first
 * GPU, else the first accelerator, else the first device.
 *
 * <pre>{@code
 * // -Dattn4j.backend=opencl -Dattn4j.opencl.device=pthread
 * try (Backend backend = Backends.open()) { ... }
 * }</pre>
 */
public final class OpenClBackendProvider implements BackendProvider {

    /** The backend's name. */
    static final String NAME = "opencl";

    /** The provider {@link java.util.ServiceLoader} makes; it loads nothing until probed or opened. */
    public OpenClBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY_OPENCL;
    }

    @Override
    public Availability probe() {
        try {
            return Devices.probe(BackendOptions.fromSystemProperties(NAME).get("device").orElse(null));
        } catch (LinkageError | RuntimeException e) {
            return Availability.unavailable(ProbeFailures.describe(e));
        }
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        try {
            return OpenClEngine.open(options);
        } catch (LinkageError e) {
            throw new DeviceException(NAME, "UNAVAILABLE", ProbeFailures.describe(e));
        }
    }
}
