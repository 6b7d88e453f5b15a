package dev.attn4j.guice;

import com.google.inject.Guice;
import com.google.inject.Injector;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.List;

/**
 * A program for {@link JdkWarningsTest}: one injector over {@link Attn4jModule}, every binding looked up, and
 * with the argument {@code consumer} a consumer class built by constructor injection as well, or with
 * {@code unbound} a failed injection whose error goes to standard error.
 */
public final class InjectOnce {
    private InjectOnce() {
    }

    /**
     * Runs the injection; prints {@code ok} at the end.
     *
     * @param args {@code consumer} to inject a consumer class too, {@code unbound} to fail one injection
     */
    public static void main(String[] args) {
        BackendSelector selector = new BackendSelector(List.of(new CountingProvider("cpu", 100, true)), k -> null,
                k -> null);
        Injector injector = Guice.createInjector(new Attn4jModule(selector, BackendOptions.none()));
        for (Class<?> type : List.of(TensorPort.class, AttentionPort.class, NormalizationPort.class, RotaryPort.class)) {
            injector.getInstance(type);
        }
        if (args.length > 0 && args[0].equals("consumer")) {
            injector.getInstance(Attn4jModuleTest.AttentionLayer.class);
        }
        if (args.length > 0 && args[0].equals("unbound")) {
            try {
                injector.getInstance(Attn4jModuleTest.NeedsUnbound.class);
                throw new AssertionError("an unbound dependency was injected");
            } catch (com.google.inject.ConfigurationException e) {
                System.err.println(e.getMessage());
            }
        }
        injector.getInstance(Backend.class).close();
        System.out.println("ok");
    }
}
