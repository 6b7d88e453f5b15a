package dev.attn4j.app.adapters;

import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.domain.adapters.AdapterConfigs;
import dev.attn4j.domain.adapters.LoraConfig;
import dev.attn4j.domain.adapters.TargetModules;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code attn4j merge}: W + s·B·A written under the model's names; bad input refused before anything is written. */
class MergeCommandTest {
    private static final String CONFIG = """
            {"num_tokens": 61, "max_seq_len": 64, "use_abs_pos_emb": false,
             "attn_layers": {"kind": "decoder", "dim": 32, "depth": 2, "heads": 4, "attn_kv_heads": 2,
                             "attn_dim_head": 8, "use_rmsnorm": true}}""";
    private static final List<String> TARGETS = List.of("attn_layers.layers.0.1.to_q", "attn_layers.layers.2.1.to_v");

    @TempDir
    Path dir;
    Path config;
    Path weights;
    Path adapter;
    Map<String, float[]> base = new LinkedHashMap<>();
    Map<String, int[]> shapes = new LinkedHashMap<>();
    Map<String, float[]> lora = new LinkedHashMap<>();
    private final CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());

    @BeforeEach
    void files() throws Exception {
        config = dir.resolve("model.json");
        Files.writeString(config, CONFIG);
        TransformerConfig c = (TransformerConfig) ModelConfigs.parse(CONFIG);
        SplittableRandom random = new SplittableRandom(1);
        SafetensorsWriter w = SafetensorsWriter.create();
        for (ParameterSpec s : Transformer.specs(c, "")) {
            float[] v = new float[(int) s.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextDouble() - 0.5);
            }
            base.put(s.name(), v);
            shapes.put(s.name(), s.shape().dims());
            w.f32(s.name(), v, s.shape().dims());
        }
        weights = dir.resolve("base.safetensors");
        w.write(weights);
        adapter = dir.resolve("adapter");
        AdapterConfigs.write(adapter, LoraConfig.of(4, 8, TargetModules.names("to_q", "to_v")));
        SafetensorsWriter a = SafetensorsWriter.create();
        for (String path : List.of("attn_layers.layers.0.1.to_q", "attn_layers.layers.0.1.to_v",
                "attn_layers.layers.2.1.to_q", "attn_layers.layers.2.1.to_v")) {
            int[] shape = shapes.get(path + ".weight");
            float[] la = new float[4 * shape[1]];
            float[] lb = new float[shape[0] * 4];
            for (int i = 0; i < la.length; i++) {
                la[i] = (float) (random.nextDouble() - 0.5);
            }
            for (int i = 0; i < lb.length; i++) {
                lb[i] = (float) (random.nextDouble() - 0.5);
            }
            lora.put(path + ".A", la);
            lora.put(path + ".B", lb);
            a.f32("base_model.model." + path + ".lora_A.weight", la, 4, shape[1]);
            a.f32("base_model.model." + path + ".lora_B.weight", lb, shape[0], 4);
        }
        a.metadata("format", "pt").write(adapter.resolve(AdapterConfigs.WEIGHTS_FILE));
    }

    @Test
    void mergesEveryTargetedWeightAndKeepsTheRest() {
        Path out = dir.resolve("merged.safetensors");
        int code = cli.run("merge", "--model", config.toString(), "--weights", weights.toString(), "--adapter",
                adapter.toString(), "--out", out.toString());
        assertEquals(ExitCodes.OK, code, cli.err());
        assertTrue(cli.out().contains("into 4 weights"), cli.out());
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertEquals(base.size(), r.entries().size());
            for (Map.Entry<String, float[]> e : base.entrySet()) {
                float[] got = r.readFloats(e.getKey());
                assertArrayEquals(shapes.get(e.getKey()), r.entry(e.getKey()).shape(), e.getKey());
                String path = e.getKey().substring(0, e.getKey().length() - ".weight".length());
                if (!lora.containsKey(path + ".A")) {
                    assertArrayEquals(e.getValue(), got, e.getKey() + " unchanged");
                    continue;
                }
                int rows = shapes.get(e.getKey())[0];
                int cols = shapes.get(e.getKey())[1];
                float[] a = lora.get(path + ".A");
                float[] b = lora.get(path + ".B");
                for (int o = 0; o < rows; o++) {
                    for (int c = 0; c < cols; c++) {
                        double ba = 0;
                        for (int i = 0; i < 4; i++) {
                            ba += (double) b[o * 4 + i] * a[i * cols + c];
                        }
                        assertEquals(e.getValue()[o * cols + c] + 2.0 * ba, got[o * cols + c], 1e-6,
                                e.getKey() + " = W + (alpha/r)·B·A at " + o + "," + c);
                    }
                }
            }
        }
    }

    @Test
    void anAdapterForAnotherModelIsBadInput() throws Exception {
        SafetensorsWriter.create().f32("base_model.model.attn_layers.layers.9.1.to_q.lora_A.weight", new float[4 * 32], 4, 32)
                .f32("base_model.model.attn_layers.layers.9.1.to_q.lora_B.weight", new float[32 * 4], 32, 4)
                .write(adapter.resolve(AdapterConfigs.WEIGHTS_FILE));
        Path out = dir.resolve("merged.safetensors");
        assertEquals(ExitCodes.BAD_INPUT, cli.run("merge", "--model", config.toString(), "--weights", weights.toString(),
                "--adapter", adapter.toString(), "--out", out.toString()));
        assertTrue(cli.err().contains("layers.9.1.to_q"), cli.err());
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void weightsOfAnotherModelAndAnOverwriteAreBadInput() {
        Path out = dir.resolve("merged.safetensors");
        assertEquals(ExitCodes.BAD_INPUT, cli.run("merge", "--model", "orca", "--weights", weights.toString(),
                "--adapter", adapter.toString(), "--out", out.toString()));
        assertFalse(Files.exists(out));
        assertEquals(ExitCodes.BAD_INPUT, cli.run("merge", "--model", config.toString(), "--weights", weights.toString(),
                "--adapter", adapter.toString(), "--out", weights.toString()));
        assertEquals(ExitCodes.BAD_INPUT, cli.run("merge", "--model", config.toString(), "--weights", weights.toString(),
                "--adapter", dir.resolve("nowhere").toString(), "--out", out.toString()));
        assertTrue(cli.err().contains("adapter_config.json"), cli.err());
    }
}
