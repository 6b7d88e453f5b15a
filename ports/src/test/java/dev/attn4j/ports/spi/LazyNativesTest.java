package dev.attn4j.ports.spi;

import dev.attn4j.ports.spi.lazy.LazyNativeProvider;
import dev.attn4j.ports.spi.lazy.NativeLoads;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/design.md §2: natives are loaded on first probe/open, never when the provider is listed. Each test loads the
 * provider and its holder in a fresh class loader, so each sees its own, not yet initialised, holder.
 */
class LazyNativesTest {
    private static final String PROVIDER = LazyNativeProvider.class.getName();
    private static final String HOLDER = "dev.attn4j.ports.spi.lazy.NativeHolder";

    /** Defines the provider and its holder itself; everything else comes from the test's class loader. */
    private static final class Isolated extends ClassLoader {
        private final Set<String> own = Set.of(PROVIDER, HOLDER);

        Isolated() {
            super(LazyNativesTest.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!own.contains(name)) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                        byte[] bytes = in.readAllBytes();
                        c = defineClass(name, bytes, 0, bytes.length);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                return c;
            }
        }
    }

    private static BackendProvider freshProvider() throws ReflectiveOperationException {
        Class<?> type = Class.forName(PROVIDER, false, new Isolated());
        return (BackendProvider) type.getConstructor().newInstance();
    }

    @Test
    void listingDoesNotLoadNativesProbingDoesOnce() throws ReflectiveOperationException {
        int before = NativeLoads.COUNT.get();
        BackendProvider provider = freshProvider();
        assertEquals("lazy", provider.name());
        assertEquals(42, provider.priority());
        assertEquals(before, NativeLoads.COUNT.get(), "constructing, name() and priority() must not load natives");

        BackendSelector selector = new BackendSelector(List.of(provider), k -> null, k -> null);
        selector.requestedName();
        assertEquals(before, NativeLoads.COUNT.get(), "building a selector must not probe");

        ProviderStatus status = selector.survey().getFirst();
        assertTrue(status.availability().available());
        assertEquals("fake driver 1.0", status.availability().reason());
        assertEquals(before + 1, NativeLoads.COUNT.get(), "probe loads the natives");

        selector.open(BackendOptions.none()).close();
        provider.probe();
        assertEquals(before + 1, NativeLoads.COUNT.get(), "natives load once per class loader");
    }

    @Test
    void openingWithoutProbingLoadsNatives() throws ReflectiveOperationException {
        int before = NativeLoads.COUNT.get();
        BackendProvider provider = freshProvider();
        assertEquals(before, NativeLoads.COUNT.get());
        try (var engine = provider.open(BackendOptions.none())) {
            assertEquals("lazy fake driver 1.0", engine.name());
        }
        assertEquals(before + 1, NativeLoads.COUNT.get());
    }

    @Test
    void theIsolationWorks() throws ReflectiveOperationException {
        // two fresh loaders give two distinct provider classes, so the tests above cannot see each other's holder
        assertTrue(freshProvider().getClass() != freshProvider().getClass());
        assertTrue(freshProvider().getClass() != LazyNativeProvider.class);
    }
}
