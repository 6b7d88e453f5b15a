package dev.attn4j.ports;

import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The {@link Backends} entry point over the providers registered in the test META-INF/services. */
class BackendsTest {

    @BeforeEach
    void noBackendNamedOutside() {
        assumeTrue(System.getProperty(BackendSelector.PROPERTY) == null && System.getenv(BackendSelector.ENVIRONMENT) == null,
                "attn4j.backend / ATTN4J_BACKEND is set in this environment");
    }

    @Test
    void surveyListsTheRegisteredProviders() {
        List<ProviderStatus> found = Backends.survey();
        assertEquals(4, found.size(), found::toString);
        assertTrue(found.getFirst().availability().available());
    }

    @Test
    void openPicksTheBestAvailable() {
        try (Backend backend = Backends.open()) {
            assertEquals("alpha", backend.name());
            assertFalse(backend.isClosed());
        }
    }

    @Test
    void openByName() {
        try (Backend backend = Backends.open("ALPHA")) {
            assertEquals("alpha", backend.name());
        }
    }

    @Test
    void namingAnUnavailableBackendIsAnError() {
        var e = assertThrowsExactly(BackendUnavailableException.class, () -> Backends.open("beta"));
        assertTrue(e.getMessage().startsWith("backend 'beta' was requested but is unavailable: beta hardware absent"),
                e.getMessage());
        assertEquals(4, e.found().size());
    }

    @Test
    void thePropertyChoosesTheBackend() {
        System.setProperty(BackendSelector.PROPERTY, "beta");
        try {
            var e = assertThrowsExactly(BackendUnavailableException.class, Backends::open);
            assertTrue(e.getMessage().startsWith("backend 'beta' was requested"), e.getMessage());
        } finally {
            System.clearProperty(BackendSelector.PROPERTY);
        }
    }
}
