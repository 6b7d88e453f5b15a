package dev.attn4j.conformance.models;

import dev.attn4j.domain.layers.KvCache;
import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.norm.NormCapabilities;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cached decoding of two rows at once on each backend: the logits of every step equal a full pass's. */
class CachedDecodingTest {

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, AttentionCapabilities.class,
            NormCapabilities.class})
    void twoRowsDecodedTogetherMatchAFullPass(Backend backend) {
        for (String fixture : new String[] {"orca_small", "gpt_small"}) {
            try (Transformer model = ModelFixtures.decoder(backend, fixture)) {
                int v = model.config().numTokens();
                int[] ids = ModelFixtures.ids(fixture);
                int s = 8;
                int[] rows = new int[2 * s];
                System.arraycopy(ids, 0, rows, 0, s);
                System.arraycopy(ids, ids.length / 2, rows, s, s);
                float[] full;
                try (Step step = Step.inference(backend)) {
                    full = backend.tensors().download(model.logits(step, model.forward(step, TokenBatch.of(rows, 2, s), false)));
                }
                try (KvCache cache = new KvCache(backend, 2, s)) {
                    int[] prefill = {rows[0], rows[1], rows[2], rows[s], rows[s + 1], rows[s + 2]};
                    float[] last;
                    try (Step step = Step.inference(backend)) {
                        last = model.decode(step, TokenBatch.of(prefill, 2, 3), cache, null, null);
                    }
                    check(full, last, 2, v, s, fixture);
                    for (int t = 3; t < s; t++) {
                        try (Step step = Step.inference(backend)) {
                            last = model.decode(step, TokenBatch.of(new int[] {rows[t], rows[s + t]}, 2, 1), cache, null, null);
                        }
                        check(full, last, t, v, s, fixture);
                    }
                }
            }
        }
    }

    private static void check(float[] full, float[] last, int t, int v, int s, String fixture) {
        for (int row = 0; row < 2; row++) {
            float[] expected = Arrays.copyOfRange(full, (row * s + t) * v, (row * s + t + 1) * v);
            double worst = 0;
            for (int i = 0; i < v; i++) {
                worst = Math.max(worst, Math.abs(expected[i] - last[row * v + i]) / (1 + Math.abs(expected[i])));
            }
            assertTrue(worst < 2e-5, fixture + " row " + row + " token " + t + ": max relative difference " + worst);
        }
    }
}
