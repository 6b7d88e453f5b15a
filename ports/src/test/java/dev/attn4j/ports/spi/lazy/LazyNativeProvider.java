package dev.attn4j.ports.spi.lazy;

import dev.attn4j.ports.fake.HeapEngine;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;

import java.util.List;

/** Follows the provider rules: name and priority are plain constants, natives sit behind {@link NativeHolder}. */
public final class LazyNativeProvider implements BackendProvider {
    @Override
    public String name() {
        return "lazy";
    }

    @Override
    public int priority() {
        return 42;
    }

    @Override
    public Availability probe() {
        try {
            return Availability.available(NativeHolder.DRIVER, List.of("lazy: device 0"));
        } catch (LinkageError e) {
            return Availability.unavailable("natives failed to load: " + e);
        }
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        return new HeapEngine("lazy " + NativeHolder.DRIVER, HeapEngine.everything());
    }
}
