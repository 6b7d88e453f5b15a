package dev.attn4j.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Singleton;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.tensor.TensorPort;
import jakarta.inject.Provider;

import java.util.Objects;
import java.util.function.Function;

/**
 * Binds the selected backend and its ports for injection. Selection follows docs/design.md §2
 * ({@code attn4j.backend} / {@code ATTN4J_BACKEND}, else the best available provider); the backend is a
 * singleton, opened on first use (in {@code Stage.PRODUCTION}, where Guice builds singletons eagerly, when
 * the injector is created). The product owns its lifecycle: close the injected {@link Backend} on shutdown.
 *
 * <p>The bindings are plain provider instances, not {@code @Provides} methods: Guice generates a "fast class"
 * for every {@code @Provides} method, which on JDK 24+ goes through {@code sun.misc.Unsafe} and prints a
 * warning; provider instances are called directly.
 *
 * <pre>{@code
 * Injector injector = Guice.createInjector(new Attn4jModule());
 * AttentionPort attention = injector.getInstance(AttentionPort.class);
 * }</pre>
 */
public final class Attn4jModule extends AbstractModule {
    private final BackendSelector selector;
    private final BackendOptions options;

    /** Selects among the providers {@link java.util.ServiceLoader} finds. */
    public Attn4jModule() {
        this(BackendSelector.fromServiceLoader(), BackendOptions.none());
    }

    /**
     * Selects with an explicit selector and options (tests, embedded configurations).
     *
     * @param selector where the backend comes from
     * @param options  options passed to the selected backend's {@code open}, over its system properties
     */
    public Attn4jModule(BackendSelector selector, BackendOptions options) {
        this.selector = Objects.requireNonNull(selector, "selector");
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    protected void configure() {
        bind(Backend.class).toProvider(new OpenBackend(selector, options)).in(Singleton.class);
        com.google.inject.Provider<Backend> backend = getProvider(Backend.class);
        bind(TensorPort.class).toProvider(new PortOf<>(backend, Backend::tensors));
        bind(AttentionPort.class).toProvider(new PortOf<>(backend, Backend::attention));
        bind(NormalizationPort.class).toProvider(new PortOf<>(backend, Backend::normalization));
        bind(RotaryPort.class).toProvider(new PortOf<>(backend, Backend::rotary));
    }

    /** Opens the selected backend; bound as a singleton, so it runs once per injector. */
    private record OpenBackend(BackendSelector selector, BackendOptions options) implements Provider<Backend> {
        @Override
        public Backend get() {
            return selector.open(options);
        }
    }

    /** One port of the (singleton) backend. */
    private record PortOf<T>(com.google.inject.Provider<Backend> backend, Function<Backend, T> port)
            implements Provider<T> {
        @Override
        public T get() {
            return port.apply(backend.get());
        }
    }
}
