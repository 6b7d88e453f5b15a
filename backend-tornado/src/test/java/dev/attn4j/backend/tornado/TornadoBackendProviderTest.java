package dev.attn4j.backend.tornado;

import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TornadoBackendProviderTest {

    @Test
    void serviceLoaderFindsTheProviderByName() {
        List<BackendProvider> found = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("tornado"))
                .toList();
        assertEquals(1, found.size(), "exactly one provider named tornado");
        assertEquals(BackendProvider.PRIORITY_TORNADO, found.getFirst().priority());
        assertTrue(found.getFirst() instanceof TornadoBackendProvider);
    }

    @Test
    void withoutTheRuntimeProbeIsUnavailableWithTheReason() {
        Availability a = new TornadoBackendProvider("no.such.tornado.Runtime", TornadoBackendProvider.ENGINE_CLASS).probe();
        assertFalse(a.available());
        assertEquals("TornadoVM runtime not found (set TORNADOVM_HOME and run under its argfile)", a.reason());
        assertTrue(a.devices().isEmpty());
    }

    @Test
    void withoutTheRuntimeOpenThrowsAClearError() {
        var provider = new TornadoBackendProvider("no.such.tornado.Runtime", TornadoBackendProvider.ENGINE_CLASS);
        Attn4jException e = assertThrows(Attn4jException.class, () -> provider.open(BackendOptions.none()));
        assertTrue(e.getMessage().contains("tornado"), e.getMessage());
        assertTrue(e.getMessage().contains("TornadoVM runtime not found"), e.getMessage());
    }

    @Test
    void runtimeWithoutEngineSaysHowToBuildIt() {
        // Any class that exists stands in for the runtime; the engine name is one that does not.
        Availability a = new TornadoBackendProvider("java.lang.String", "no.such.Engine").probe();
        assertFalse(a.available());
        assertTrue(a.reason().contains("built without its engine"), a.reason());
    }

    @Test
    void theRealProbeNeverThrowsAndNamesTheMissingRuntime() {
        Availability a = new TornadoBackendProvider().probe();
        if (!runtimeOnClassPath()) {
            assertFalse(a.available());
            assertEquals(TornadoBackendProvider.RUNTIME_NOT_FOUND, a.reason());
        } else {
            assertFalse(a.reason().isBlank());
        }
    }

    private static boolean runtimeOnClassPath() {
        try {
            Class.forName(TornadoBackendProvider.RUNTIME_CLASS, false, TornadoBackendProviderTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
