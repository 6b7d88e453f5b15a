package dev.attn4j.app.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.training.CheckpointStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code train --adapter}: a LoRA (LoRA+, rsLoRA) or VeRA adapter trained on a frozen base, saved as PEFT saves it, then merged and used by generate. */
class TrainAdapterCommandTest {
    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());

    private Path baseWeights(Path config, Path data) {
        Path base = dir.resolve("base");
        assertEquals(ExitCodes.OK, cli.run("train", "--model", config.toString(), "--data", data.toString(), "--max-length",
                "32", "--steps", "2", "--batch-size", "4", "--lr", "1e-3", "--out", base.toString(), "--backend", "cpu"),
                cli.out() + cli.err());
        return CheckpointStore.at(base.resolve("checkpoints"), 1).latest().orElseThrow().file("model.safetensors");
    }

    @Test
    void loraTrainsOnAFrozenBaseSavesPeftFilesMergesAndGenerates() throws IOException {
        CpuModels.assume();
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, TrainCommandTest.TINY);
        Path data = dir.resolve("train.jsonl");
        assertEquals(ExitCodes.OK, cli.run("make-data", "--task", "reverse", "--count", "64", "--out", data.toString()),
                cli.err());
        Path base = baseWeights(config, data);
        Path out = dir.resolve("lora");
        int code = cli.run("train", "--model", config.toString(), "--weights", base.toString(), "--data", data.toString(),
                "--max-length", "32", "--steps", "4", "--batch-size", "4", "--lr", "1e-2", "--adapter", "lora",
                "--lora-r", "4", "--lora-alpha", "8", "--rslora", "--lora-plus-ratio", "4", "--target-modules",
                "to_q,to_v,to_out", "--checkpoint-every", "2", "--out", out.toString(), "--backend", "cpu");
        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        assertTrue(cli.out().contains("adapter: lora"), cli.out());
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("adapter/adapter_config.json").toFile());
        assertEquals("LORA", cfg.path("peft_type").asText());
        assertEquals(4, cfg.path("r").asInt());
        assertTrue(cfg.path("use_rslora").asBoolean());
        float[] b;
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("adapter/adapter_model.safetensors"))) {
            String key = "base_model.model.attn_layers.layers.0.1.to_q.lora_B.weight";
            assertTrue(r.contains(key), r.entries().toString());
            b = r.readFloats(key);
        }
        assertTrue(Arrays.stream(toDoubles(b)).anyMatch(v -> v != 0), "B starts at zero and trained away from it");
        // the checkpoints hold the adapter (and its optimizer state), not the frozen base
        Path ckpt = CheckpointStore.at(out.resolve("checkpoints"), 1).latest().orElseThrow().file("model.safetensors");
        try (SafetensorsReader r = SafetensorsReader.open(ckpt)) {
            assertFalse(r.contains("token_emb.emb.weight"), "the frozen base is not checkpointed");
            assertTrue(r.entries().stream().anyMatch(e -> e.name().contains("lora_A")), r.entries().toString());
        }
        Path merged = dir.resolve("merged.safetensors");
        assertEquals(ExitCodes.OK, cli.run("merge", "--model", config.toString(), "--weights", base.toString(), "--adapter",
                out.resolve("adapter").toString(), "--out", merged.toString()), cli.out() + cli.err());
        int viaAdapter = cli.run("generate", "--model", config.toString(), "--weights", base.toString(), "--adapter",
                out.resolve("adapter").toString(), "--prompt-ids", "1,2,3", "--max-new-tokens", "6", "--backend", "cpu");
        assertEquals(ExitCodes.OK, viaAdapter, cli.out() + cli.err());
        String adapted = cli.out();
        int viaMerged = cli.run("generate", "--model", config.toString(), "--weights", merged.toString(), "--prompt-ids",
                "1,2,3", "--max-new-tokens", "6", "--backend", "cpu");
        assertEquals(ExitCodes.OK, viaMerged, cli.out() + cli.err());
        assertEquals(adapted, cli.out(), "greedy tokens from the adapter and from the merged weights");
    }

    @Test
    void veraTrainsAndSavesItsProjections() throws IOException {
        CpuModels.assume();
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, TrainCommandTest.TINY);
        Path data = dir.resolve("train.jsonl");
        assertEquals(ExitCodes.OK, cli.run("make-data", "--task", "copy", "--count", "32", "--out", data.toString()),
                cli.err());
        Path out = dir.resolve("vera");
        int code = cli.run("train", "--model", config.toString(), "--data", data.toString(), "--max-length", "32",
                "--steps", "2", "--batch-size", "4", "--lr", "1e-2", "--adapter", "vera", "--lora-r", "8",
                "--target-modules", "all-linear", "--out", out.toString(), "--backend", "cpu");
        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("adapter/adapter_config.json").toFile());
        assertEquals("VERA", cfg.path("peft_type").asText());
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("adapter/adapter_model.safetensors"))) {
            assertTrue(r.contains("base_model.vera_A") && r.contains("base_model.vera_B"), r.entries().toString());
        }
    }

    @Test
    void badAdapterOptionsExitTwo() throws IOException {
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, TrainCommandTest.TINY);
        Path data = dir.resolve("train.jsonl");
        Files.writeString(data, "{\"text\": \"abc\"}\n");
        assertEquals(ExitCodes.BAD_INPUT, cli.run("train", "--model", config.toString(), "--data", data.toString(),
                "--max-length", "16", "--steps", "1", "--adapter", "lora", "--lora-r", "0", "--out",
                dir.resolve("x").toString(), "--backend", "cpu"));
        assertEquals(ExitCodes.BAD_INPUT, cli.run("generate", "--model", config.toString(), "--adapter",
                dir.resolve("nope").toString(), "--prompt-ids", "1", "--max-new-tokens", "1"));
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

}
