package dev.attn4j.ports.spi.registered;

import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;

/** Registered in the test META-INF/services: higher priority than alpha, but never available. */
public final class BetaProvider implements BackendProvider {
    @Override
    public String name() {
        return "beta";
    }

    @Override
    public int priority() {
        return 20;
    }

    @Override
    public Availability probe() {
        return Availability.unavailable("beta hardware absent");
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        throw new AssertionError("beta must never be opened");
    }
}
