package dev.attn4j.ports.spi.registered;

import dev.attn4j.ports.fake.HeapEngine;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;

import java.util.List;

/** Registered in the test META-INF/services: always available, low priority. */
public final class AlphaProvider implements BackendProvider {
    @Override
    public String name() {
        return "alpha";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability probe() {
        return Availability.available("alpha runs on the heap", List.of("alpha: heap"));
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        return new HeapEngine("alpha", HeapEngine.everything());
    }
}
