package dev.attn4j.conformance;

import dev.attn4j.conformance.models.ModelFixtures;
import dev.attn4j.domain.layers.KvCache;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.EncoderDecoder;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.ports.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The models' other passes against their full forward, on the oracle engine with the fixtures' weights: KV-cached
 * decoding gives the logits of a full recompute, and activation checkpointing gives the same gradients.
 */
class ModelPassesOnOracleTest {

    private static Backend oracle() {
        return Backend.of(new OracleEngine("oracle", OracleEngine.everything(), OracleEngine::honest));
    }

    @ParameterizedTest
    @ValueSource(strings = {"orca_small", "gpt_small", "gpt2_small"})
    void cachedDecodingGivesTheLogitsOfAFullRecompute(String fixture) {
        try (Backend b = oracle(); Transformer model = ModelFixtures.decoder(b, fixture)) {
            int v = model.config().numTokens();
            int[] tokens = Arrays.copyOf(ModelFixtures.ids(fixture), 10);
            float[] full;
            try (Step step = Step.inference(b)) {
                full = b.tensors().download(model.logits(step, model.forward(step, TokenBatch.of(tokens, 1, 10), false)));
            }
            try (KvCache cache = new KvCache(b, 1, 16)) {
                // prefill 4 tokens, then one at a time
                float[] last;
                try (Step step = Step.inference(b)) {
                    last = model.decode(step, TokenBatch.of(Arrays.copyOf(tokens, 4), 1, 4), cache, null, null);
                }
                assertClose(Arrays.copyOfRange(full, 3 * v, 4 * v), last, fixture + " after the prefill");
                for (int t = 4; t < 10; t++) {
                    try (Step step = Step.inference(b)) {
                        last = model.decode(step, TokenBatch.of(new int[] {tokens[t]}, 1, 1), cache, null, null);
                    }
                    assertClose(Arrays.copyOfRange(full, t * v, (t + 1) * v), last, fixture + " at token " + t);
                }
                assertEquals(10, cache.length());
            }
        }
    }

    @Test
    void cachedDecodingOfTheEncoderDecoder() {
        try (Backend b = oracle(); EncoderDecoder model = ModelFixtures.encoderDecoder(b)) {
            int v = model.config().decoder().numTokens();
            int[] srcShape = ModelFixtures.shape("t5_small", "src");
            int[] src = Arrays.copyOf(ModelFixtures.ints("t5_small", "src"), srcShape[1]);
            TokenBatch source = TokenBatch.of(src, 1, srcShape[1]);
            int[] tgt = Arrays.copyOf(ModelFixtures.ints("t5_small", "tgt"), 8);
            float[] full;
            try (Step step = Step.inference(b)) {
                full = b.tensors().download(model.logits(step, model.forward(step, source, TokenBatch.of(tgt, 1, 8), false)));
            }
            try (Step outer = Step.inference(b); KvCache cache = new KvCache(b, 1, 8)) {
                Transformer.Pass enc = model.encoder().forward(outer, source, false);
                for (int t = 0; t < 8; t++) {
                    float[] last;
                    try (Step step = Step.inference(b)) {
                        last = model.decoder().decode(step, TokenBatch.of(new int[] {tgt[t]}, 1, 1), cache, enc.hidden(),
                                source);
                    }
                    assertClose(Arrays.copyOfRange(full, t * v, (t + 1) * v), last, "t5 at token " + t);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"orca_small_mask", "gpt_small"})
    void activationCheckpointingGivesTheSameGradients(String fixture) {
        try (Backend b = oracle(); Transformer plain = ModelFixtures.decoder(b, fixture);
             Transformer checkpointed = ModelFixtures.decoder(b, fixture)) {
            checkpointed.stack().checkpoint(true);
            Map<String, float[]> g1 = ModelFixtures.gradients(b, plain, fixture);
            Map<String, float[]> g2 = ModelFixtures.gradients(b, checkpointed, fixture);
            assertEquals(g1.keySet(), g2.keySet());
            for (String name : g1.keySet()) {
                assertArrayEquals(g1.get(name), g2.get(name), name);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"orca_small_mask", "gpt_small"})
    void fusedQkvGivesTheSameLogitsAndGradients(String fixture) {
        try (Backend b = oracle(); Transformer plain = ModelFixtures.decoder(b, fixture);
             Transformer fused = ModelFixtures.decoder(b, fixture)) {
            fused.stack().fuseQkv(true);
            assertTrue(fused.stack().blocks().stream().anyMatch(blk -> blk.attention() != null
                    && blk.attention().fusesQkv()), "fused QKV applies to the fixture's self-attention");
            int[] tokens = Arrays.copyOf(ModelFixtures.ids(fixture), 8);
            try (Step s1 = Step.inference(b); Step s2 = Step.inference(b)) {
                // q, k and v are the same sums either way: the logits are bit-identical
                assertArrayEquals(b.tensors().download(plain.logits(s1, plain.forward(s1, TokenBatch.of(tokens, 1, 8), false))),
                        b.tensors().download(fused.logits(s2, fused.forward(s2, TokenBatch.of(tokens, 1, 8), false))));
            }
            Map<String, float[]> g1 = ModelFixtures.gradients(b, plain, fixture);
            Map<String, float[]> g2 = ModelFixtures.gradients(b, fused, fixture);
            assertEquals(g1.keySet(), g2.keySet());
            for (String name : g1.keySet()) {
                // du is one sum instead of three added, so earlier layers' gradients differ by rounding only
                assertClose(g1.get(name), g2.get(name), name);
            }
        }
    }

    /** Cached and full passes round differently (one row at a time; xPos centred elsewhere): fp32-level agreement. */
    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]) / (1 + Math.abs(expected[i])));
        }
        assertTrue(worst < 2e-5, what + ": max relative difference " + worst);
    }
}
