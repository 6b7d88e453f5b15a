package dev.attn4j.guice;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.ProvisionException;
import com.google.inject.Stage;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.BackendUnavailableException;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.tensor.TensorPort;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The Guice wiring: the selected backend's ports reach a consumer through a jakarta.inject constructor. */
class Attn4jModuleTest {

    /** What a domain service looks like: it asks for ports, never for a backend implementation. */
    static final class AttentionLayer {
        final Backend backend;
        final AttentionPort attention;
        final NormalizationPort normalization;
        final TensorPort tensors;
        final RotaryPort rotary;

        @Inject
        AttentionLayer(Backend backend, AttentionPort attention, NormalizationPort normalization, TensorPort tensors,
                       RotaryPort rotary) {
            this.backend = backend;
            this.attention = attention;
            this.normalization = normalization;
            this.tensors = tensors;
            this.rotary = rotary;
        }
    }

    private final CountingProvider cpu = new CountingProvider("cpu", 100, true);
    private final CountingProvider opencl = new CountingProvider("opencl", 200, true);
    private final CountingProvider cuda = new CountingProvider("cuda", 400, false);

    private BackendSelector selector(String property) {
        return new BackendSelector(List.of(cpu, opencl, cuda), k -> BackendSelector.PROPERTY.equals(k) ? property : null,
                k -> null);
    }

    @Test
    void injectsTheSelectedBackendsPorts() {
        BackendOptions options = BackendOptions.of(Map.of("device", "0"));
        Injector injector = Guice.createInjector(new Attn4jModule(selector(null), options));
        AttentionLayer layer = injector.getInstance(AttentionLayer.class);

        assertEquals("opencl", layer.backend.name(), "highest-priority available provider (cuda is unavailable)");
        assertSame(layer.backend.attention(), layer.attention);
        assertSame(layer.backend.normalization(), layer.normalization);
        assertSame(layer.backend.tensors(), layer.tensors);
        assertSame(layer.backend.rotary(), layer.rotary);
        assertEquals(List.of(options), opencl.opened());
        assertEquals(List.of(), cpu.opened());
        assertEquals(List.of(), cuda.opened());
        layer.backend.close();
    }

    @Test
    void backendIsASingletonOpenedOnceOnFirstUse() {
        Injector injector = Guice.createInjector(new Attn4jModule(selector(null), BackendOptions.none()));
        assertEquals(0, opencl.opened().size(), "nothing is opened before it is needed");

        AttentionLayer first = injector.getInstance(AttentionLayer.class);
        AttentionLayer second = injector.getInstance(AttentionLayer.class);
        assertNotSame(first, second);
        assertSame(first.backend, second.backend);
        assertSame(first.backend, injector.getInstance(Backend.class));
        assertSame(first.attention, injector.getInstance(AttentionPort.class));
        assertEquals(1, opencl.opened().size());
        first.backend.close();
    }

    @Test
    void productionStageOpensTheBackendEagerly() {
        // Guice builds every singleton up front in Stage.PRODUCTION: a missing backend fails at start-up
        Injector injector = Guice.createInjector(Stage.PRODUCTION, new Attn4jModule(selector(null), BackendOptions.none()));
        assertEquals(1, opencl.opened().size());
        injector.getInstance(Backend.class).close();
    }

    @Test
    void explicitNameSelects() {
        Injector injector = Guice.createInjector(new Attn4jModule(selector("cpu"), BackendOptions.none()));
        try (Backend backend = injector.getInstance(Backend.class)) {
            assertEquals("cpu", backend.name());
        }
    }

    @Test
    void unavailableNamedBackendFailsProvisionWithTheReason() {
        Injector injector = Guice.createInjector(new Attn4jModule(selector("cuda"), BackendOptions.none()));
        ProvisionException e = assertThrows(ProvisionException.class, () -> injector.getInstance(AttentionLayer.class));
        BackendUnavailableException cause = assertInstanceOf(BackendUnavailableException.class, e.getCause());
        assertTrue(cause.getMessage().startsWith("backend 'cuda' was requested but is unavailable: cuda has no device here"),
                cause.getMessage());
        assertEquals(List.of(), opencl.opened(), "never a silent fallback");
    }

    interface Unbound {
    }

    static final class NeedsUnbound {
        @Inject
        NeedsUnbound(Unbound unbound, AttentionPort attention) {
        }
    }

    @Test
    void misconfigurationGivesAReadableErrorWithSourceLines() {
        // Guice 7.0.0's embedded ASM 9.5 cannot read Java 25 class files and named "Unknown Source" (after
        // logging a stack trace, see JdkWarningsTest); with a current ASM the error names the file and line.
        Injector injector = Guice.createInjector(new Attn4jModule(selector(null), BackendOptions.none()));
        var e = assertThrows(com.google.inject.ConfigurationException.class, () -> injector.getInstance(NeedsUnbound.class));
        String message = e.getMessage();
        assertTrue(message.contains("No implementation for Attn4jModuleTest$Unbound was bound"), message);
        assertTrue(message.contains("Attn4jModuleTest.java:"), message);
        assertFalse(message.contains("Unknown Source"), message);
        assertEquals(List.of(), opencl.opened(), "nothing was opened for a failed injection");
    }

    @Test
    void defaultModuleUsesServiceLoader() {
        assumeTrue(System.getProperty(BackendSelector.PROPERTY) == null && System.getenv(BackendSelector.ENVIRONMENT) == null,
                "attn4j.backend / ATTN4J_BACKEND is set in this environment");
        // the test class path registers CountingProvider (as "registered") in META-INF/services
        try (Backend backend = Guice.createInjector(new Attn4jModule()).getInstance(Backend.class)) {
            assertEquals("registered", backend.name());
        }
    }
}
