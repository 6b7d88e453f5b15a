package dev.attn4j.conformance.models;

import dev.attn4j.domain.generation.Sampling;
import dev.attn4j.domain.model.LanguageModel;
import dev.attn4j.domain.safetensors.SafetensorsWriter;
import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.norm.NormCapabilities;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embeddable {@link LanguageModel} on the padded GPT-style parity fixture: files in, x-transformers' numbers out. */
class LanguageModelTest {
    @TempDir
    Path dir;

    @EachBackend(ports = {LinearCapabilities.class, LossCapabilities.class, ActivationCapabilities.class,
            ElementwiseCapabilities.class, EmbeddingCapabilities.class, AttentionCapabilities.class,
            NormCapabilities.class})
    void loadsAConfigAndWeightsAndGivesXTransformersLossGradientsAndTokens(Backend backend) throws Exception {
        ModelFixture f = ModelFixture.load("gpt_small");
        Path config = Files.writeString(dir.resolve("gpt_small.json"), f.config());
        SafetensorsWriter w = SafetensorsWriter.create();
        f.weights().forEach((name, v) -> w.f32(name, v, f.shapes().get("weights." + name)));
        Path weights = dir.resolve("gpt_small.safetensors");
        w.write(weights);
        int[] shape = f.shapes().get("ids");
        int[][] ids = new int[shape[0]][shape[1]];
        boolean[][] keep = new boolean[shape[0]][shape[1]];
        for (int b = 0; b < shape[0]; b++) {
            for (int t = 0; t < shape[1]; t++) {
                ids[b][t] = f.ints("ids")[b * shape[1] + t];
                keep[b][t] = f.bools("mask")[b * shape[1] + t];
            }
        }
        try (LanguageModel lm = LanguageModel.load(backend, config.toString(), weights)) {
            double loss = lm.loss(ids, keep);
            assertEquals(f.expected("loss")[0], loss, f.tolerance("loss"));
            Map<String, float[]> grads = lm.gradients(ids, keep);
            String name = "attn_layers.layers.0.1.to_q.weight";
            double[] golden = f.expected("grad." + name);
            float[] g = grads.get(name);
            double worst = 0;
            for (int i = 0; i < golden.length; i++) {
                worst = Math.max(worst, Math.abs(golden[i] - g[i]));
            }
            assertTrue(worst <= f.tolerance("grad." + name), name + " max error " + worst);
            int[] more = lm.generate(new int[] {1, 2, 3}, 5, Sampling.greedy());
            assertEquals(5, more.length);
            int[] again = lm.generate(new int[] {1, 2, 3}, 5, Sampling.greedy());
            assertEquals(java.util.Arrays.toString(more), java.util.Arrays.toString(again), "greedy is deterministic");
        }
    }
}
