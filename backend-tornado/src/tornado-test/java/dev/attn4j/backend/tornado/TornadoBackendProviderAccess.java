package dev.attn4j.backend.tornado;

import dev.attn4j.ports.spi.Availability;

/** Lets the engine's tests probe through the real provider (reflection path included). */
public final class TornadoBackendProviderAccess {
    private TornadoBackendProviderAccess() {
    }

    /** The provider's probe, as ServiceLoader's instance would answer. */
    public static Availability probe() {
        return new TornadoBackendProvider().probe();
    }
}
