package dev.attn4j.guice;

import com.google.inject.Guice;
import com.google.inject.Injector;
import dev.attn4j.domain.generation.Sampling;
import dev.attn4j.domain.model.LanguageModel;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class LanguageModelModuleTest {
    @TempDir
    Path dir;

    @Test
    void bindsOneLanguageModelOnTheInjectedBackend() throws Exception {
        Path config = Files.writeString(dir.resolve("tiny.json"), """
                {"num_tokens": 50, "max_seq_len": 32, "use_abs_pos_emb": false,
                 "attn_layers": {"kind": "decoder", "dim": 16, "depth": 1, "heads": 2, "attn_dim_head": 32,
                                 "rotary_pos_emb": true}}""");
        BackendSelector cpu = new BackendSelector(java.util.List.copyOf(BackendSelector.fromServiceLoader().survey().stream()
                .filter(s -> s.name().equals("cpu")).map(s -> s.provider()).toList()), k -> null, k -> null);
        Injector injector = Guice.createInjector(new Attn4jModule(cpu, BackendOptions.none()),
                new LanguageModelModule(config.toString(), null));
        Backend backend = injector.getInstance(Backend.class);
        try (backend; LanguageModel lm = injector.getInstance(LanguageModel.class)) {
            assertSame(lm, injector.getInstance(LanguageModel.class), "a singleton");
            assertSame(backend, lm.model().parameters().backend());
            assertEquals(3 * 50, lm.logits(new int[][] {{1, 2, 3}}).length);
            assertEquals(4, lm.generate(new int[] {1}, 4, Sampling.greedy()).length);
        }
    }
}
