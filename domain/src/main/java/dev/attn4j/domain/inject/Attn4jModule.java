package dev.attn4j.domain.inject;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.tensor.TensorPort;

/**
 * Binds the selected backend and its ports for injection. Selection follows DESIGN §2
 * ({@code attn4j.backend} / {@code ATTN4J_BACKEND}, else the highest-priority available provider); the
 * backend is a singleton, opened on first use (in {@code Stage.PRODUCTION}, where Guice builds singletons
 * eagerly, when the injector is created). The product owns its lifecycle: close the injected
 * {@link Backend} on shutdown.
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

    /** Selects with an explicit selector and options (tests, embedded configurations). */
    public Attn4jModule(BackendSelector selector, BackendOptions options) {
        this.selector = selector;
        this.options = options;
    }

    @Provides
    @Singleton
    Backend backend() {
        return selector.open(options);
    }

    @Provides
    TensorPort tensors(Backend backend) {
        return backend.tensors();
    }

    @Provides
    AttentionPort attention(Backend backend) {
        return backend.attention();
    }

    @Provides
    NormalizationPort normalization(Backend backend) {
        return backend.normalization();
    }

    @Provides
    RotaryPort rotary(Backend backend) {
        return backend.rotary();
    }
}
