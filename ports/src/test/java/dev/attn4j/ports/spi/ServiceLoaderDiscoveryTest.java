package dev.attn4j.ports.spi;

import dev.attn4j.ports.BackendUnavailableException;
import dev.attn4j.ports.spi.registered.AlphaProvider;
import dev.attn4j.ports.spi.registered.BetaProvider;
import dev.attn4j.ports.spi.registered.FailingConstructorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.ServiceConfigurationError;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** docs/design.md §2 through {@link java.util.ServiceLoader}: the test class path registers four providers. */
class ServiceLoaderDiscoveryTest {
    private static final String MISSING = "dev.attn4j.ports.spi.registered.MissingProvider";

    static void assumeNoBackendNamed() {
        assumeTrue(System.getProperty(BackendSelector.PROPERTY) == null && System.getenv(BackendSelector.ENVIRONMENT) == null,
                "attn4j.backend / ATTN4J_BACKEND is set in this environment");
    }

    private static ProviderStatus named(List<ProviderStatus> found, String name) {
        return found.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not in " + found));
    }

    @Test
    void findsEveryRegisteredProviderInFileOrder() {
        List<ProviderStatus> found = BackendSelector.fromServiceLoader().survey();
        assertEquals(List.of("alpha", FailingConstructorProvider.class.getName(), MISSING, "beta"),
                found.stream().map(ProviderStatus::name).toList());
        assertInstanceOf(AlphaProvider.class, named(found, "alpha").provider());
        assertInstanceOf(BetaProvider.class, named(found, "beta").provider());
        assertEquals("beta hardware absent", named(found, "beta").availability().reason());
    }

    @Test
    void providerWhoseConstructorThrowsIsReportedWithItsCause() {
        ProviderStatus failing = named(BackendSelector.fromServiceLoader().survey(), FailingConstructorProvider.class.getName());
        assertFalse(failing.availability().available());
        assertNull(failing.provider());
        assertEquals(Integer.MIN_VALUE, failing.priority());
        String reason = failing.availability().reason();
        assertTrue(reason.startsWith("provider could not be loaded: "), reason);
        assertTrue(reason.contains("could not be instantiated"), reason);
        assertTrue(reason.contains("IllegalStateException: vendor runtime missing"), "the cause is the useful part: " + reason);
    }

    @Test
    void providerWhoseClassIsMissingIsReported() {
        ProviderStatus missing = named(BackendSelector.fromServiceLoader().survey(), MISSING);
        assertFalse(missing.availability().available());
        assertTrue(missing.availability().reason().contains("Provider " + MISSING + " not found"),
                missing.availability().reason());
    }

    @Test
    void selectsTheBestAvailableDespiteBrokenRegistrations() {
        assumeNoBackendNamed();
        // beta outranks alpha but is unavailable; the broken ones have no priority at all
        assertEquals("alpha", BackendSelector.fromServiceLoader().select().name());
    }

    @Test
    void errorsFromTheLoaderItselfAreReportedNotThrown() {
        BackendProvider a = BackendSelectorTest.available("a", 1);
        BackendProvider b = BackendSelectorTest.available("b", 2);
        // hasNext() fails once with a linkage error, next() once with a configuration error, then b loads
        Iterable<BackendProvider> loader = () -> new Iterator<>() {
            private int step;

            @Override
            public boolean hasNext() {
                if (step == 1) {
                    step++;
                    throw new NoClassDefFoundError("com/vendor/Runtime");
                }
                return step < 4;
            }

            @Override
            public BackendProvider next() {
                return switch (step++) {
                    case 0 -> a;
                    case 2 -> throw new ServiceConfigurationError(
                            BackendProvider.class.getName() + ": Provider com.vendor.GpuProvider could not be instantiated",
                            new UnsatisfiedLinkError("no vendor in java.library.path"));
                    case 3 -> b;
                    default -> throw new NoSuchElementException();
                };
            }
        };
        BackendSelector selector = BackendSelector.fromServiceLoader(loader);
        List<ProviderStatus> found = selector.survey();
        assertEquals(List.of("a", "unknown provider", "com.vendor.GpuProvider", "b"),
                found.stream().map(ProviderStatus::name).toList());
        assertTrue(found.get(1).availability().reason().contains("NoClassDefFoundError: com/vendor/Runtime"),
                found.get(1).availability().reason());
        assertTrue(found.get(2).availability().reason().contains("UnsatisfiedLinkError: no vendor in java.library.path"),
                found.get(2).availability().reason());
        assumeNoBackendNamed();
        assertEquals("b", selector.select().name());
    }

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aLoaderThatFailsForeverStillEnds() {
        Iterable<BackendProvider> loader = () -> new Iterator<>() {
            @Override
            public boolean hasNext() {
                throw new ServiceConfigurationError("broken class path");
            }

            @Override
            public BackendProvider next() {
                throw new NoSuchElementException();
            }
        };
        BackendSelector selector = BackendSelector.fromServiceLoader(loader);
        List<ProviderStatus> found = selector.survey();
        assertEquals(1, found.size(), "the same failure again and again is reported once: " + found);
        var e = assertThrowsExactly(BackendUnavailableException.class, () -> selector.select("alpha"));
        assertTrue(e.getMessage().contains("broken class path"), e.getMessage());
    }
}
