package dev.attn4j.ports.spi.lazy;

import java.util.concurrent.atomic.AtomicInteger;

/** Counts how often a {@link LazyNativeProvider}'s native part was initialised (one per class loader). */
public final class NativeLoads {
    /** Incremented by the native holder's static initializer, where a real backend loads its library. */
    public static final AtomicInteger COUNT = new AtomicInteger();

    private NativeLoads() {
    }
}
