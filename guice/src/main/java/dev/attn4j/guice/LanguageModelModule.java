package dev.attn4j.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Singleton;
import dev.attn4j.domain.model.LanguageModel;
import dev.attn4j.ports.Backend;
import jakarta.inject.Provider;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Binds a {@link LanguageModel} (a preset or a configuration file, with optional weights) on the injected
 * {@link Backend}; install it beside {@link Attn4jModule}. The model is a singleton made on first use; the product
 * closes it (before the backend) on shutdown.
 *
 * <pre>{@code
 * Injector injector = Guice.createInjector(new Attn4jModule(),
 *         new LanguageModelModule("orca", Path.of("orca.safetensors")));
 * LanguageModel lm = injector.getInstance(LanguageModel.class);
 * }</pre>
 */
public final class LanguageModelModule extends AbstractModule {
    private final String model;
    private final Path weights;

    /**
     * A module binding {@link LanguageModel} as a singleton, loaded once per injector on the injector's
     * {@link Backend}.
     *
     * @param model   a preset name ({@code orca}, {@code gpt}) or a configuration JSON file
     * @param weights a safetensors file in the reference's names, or {@code null} for a fresh initialisation
     */
    public LanguageModelModule(String model, Path weights) {
        this.model = Objects.requireNonNull(model, "model");
        this.weights = weights;
    }

    @Override
    protected void configure() {
        bind(LanguageModel.class).toProvider(new Load(getProvider(Backend.class), model, weights)).in(Singleton.class);
    }

    /** Loads the model on the bound backend. */
    private record Load(com.google.inject.Provider<Backend> backend, String model, Path weights)
            implements Provider<LanguageModel> {
        @Override
        public LanguageModel get() {
            return LanguageModel.load(backend.get(), model, weights);
        }
    }
}
