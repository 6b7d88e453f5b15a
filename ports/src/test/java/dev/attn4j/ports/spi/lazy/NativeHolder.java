package dev.attn4j.ports.spi.lazy;

/**
 * The native part of {@link LazyNativeProvider}: in a real backend this class's initializer calls
 * {@code System.loadLibrary} or touches vendor classes. The JVM runs it on first use only.
 */
final class NativeHolder {
    static final String DRIVER;

    static {
        NativeLoads.COUNT.incrementAndGet();
        DRIVER = "fake driver 1.0";
    }

    private NativeHolder() {
    }
}
