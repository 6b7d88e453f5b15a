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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainCommandTest {
    /** A small decoder over the byte tokenizer's 259 ids. */
    static final String TINY = """
            {"num_tokens": 259, "max_seq_len": 64, "use_abs_pos_emb": false,
             "attn_layers": {"kind": "decoder", "dim": 32, "depth": 1, "heads": 2, "attn_dim_head": 32,
                             "rotary_pos_emb": true}}
            """;

    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());

    Path tinyConfig() throws IOException {
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, TINY);
        return config;
    }

    @Test
    void trainsWritesReportsAndCheckpointsThenGenerates() throws IOException {
        CpuModels.assume();
        Path data = dir.resolve("train.jsonl");
        assertEquals(ExitCodes.OK, cli.run("make-data", "--task", "reverse", "--count", "64", "--out", data.toString()),
                cli.err());
        Path out = dir.resolve("out");
        int code = cli.run("train", "--model", tinyConfig().toString(), "--data", data.toString(), "--eval",
                data.toString(), "--max-length", "32", "--steps", "6", "--batch-size", "4", "--lr", "1e-3",
                "--log-every", "2", "--eval-every", "3", "--checkpoint-every", "2", "--keep", "2", "--out",
                out.toString(), "--backend", "cpu");
        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        JsonNode report = new ObjectMapper().readTree(out.resolve("train.json").toFile());
        assertEquals("completed", report.path("status").asText());
        assertEquals(3, report.path("logs").size(), report.toString());
        assertEquals(2, report.path("evals").size(), report.toString());
        String html = Files.readString(out.resolve("train.html"));
        assertTrue(html.contains("data:image/png;base64,"), "the page embeds its chart");
        CheckpointStore store = CheckpointStore.at(out.resolve("checkpoints"), 2);
        assertEquals(List.of(4L, 6L), store.steps(), "keep 2: the checkpoints of steps 4 and 6");
        Path weights = store.latest().orElseThrow().file("model.safetensors");
        try (SafetensorsReader r = SafetensorsReader.open(weights)) {
            assertTrue(r.contains("token_emb.emb.weight"));
        }
        int gen = cli.run("generate", "--model", tinyConfig().toString(), "--weights", weights.toString(), "--prompt",
                "reverse abc=", "--max-new-tokens", "5", "--backend", "cpu");
        assertEquals(ExitCodes.OK, gen, cli.out() + cli.err());
        assertTrue(cli.out().startsWith("ids: "), cli.out());
        assertTrue(cli.out().contains("\ntext: "), cli.out());
    }

    @Test
    void trainsAndGeneratesWithAHuggingFaceTokenizer() throws IOException {
        CpuModels.assume();
        Path tokenizer = Path.of("..", "domain", "src", "test", "resources", "data", "bpe", "tokenizer.json");
        Path config = dir.resolve("bpe.json");
        Files.writeString(config, TINY.replace("\"num_tokens\": 259", "\"num_tokens\": 300"));
        Path data = dir.resolve("text.jsonl");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 24; i++) {
            lines.append("{\"text\": \"the quick brown fox jumps over the lazy dog ").append(i).append("\"}\n");
        }
        Files.writeString(data, lines);
        Path out = dir.resolve("out");
        int code = cli.run("train", "--model", config.toString(), "--data", data.toString(), "--tokenizer",
                tokenizer.toString(), "--max-length", "32", "--packing", "zero", "--steps", "2", "--batch-size", "4",
                "--out", out.toString(), "--backend", "cpu");
        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        assertTrue(cli.out().contains("packing"), cli.out());
        Path weights = CheckpointStore.at(out.resolve("checkpoints"), 3).latest().orElseThrow().file("model.safetensors");
        assertEquals(ExitCodes.OK, cli.run("generate", "--model", config.toString(), "--weights", weights.toString(),
                "--tokenizer", tokenizer.toString(), "--prompt", "the quick", "--max-new-tokens", "4"), cli.err());
        assertTrue(cli.out().contains("\ntext: "), cli.out());
        // a vocabulary larger than the model's is refused before training
        assertEquals(ExitCodes.BAD_INPUT, cli.run("train", "--model", tinyConfig().toString(), "--data", data.toString(),
                "--tokenizer", tokenizer.toString(), "--max-length", "32", "--steps", "2", "--out",
                dir.resolve("o2").toString()), cli.err());
        assertTrue(cli.err().contains("num_tokens = 259"), cli.err());
    }

    @Test
    void fusedQkvTrainsWithTheFirstStepsLossOfThreeProjections() throws IOException {
        CpuModels.assume();
        Path data = dir.resolve("train.jsonl");
        assertEquals(ExitCodes.OK, cli.run("make-data", "--task", "reverse", "--count", "16", "--out", data.toString()),
                cli.err());
        double[] firstLoss = new double[2];
        for (int f = 0; f < 2; f++) {
            Path out = dir.resolve("out" + f);
            List<String> args = new java.util.ArrayList<>(List.of("train", "--model", tinyConfig().toString(), "--data",
                    data.toString(), "--max-length", "32", "--steps", "2", "--batch-size", "4", "--log-every", "1",
                    "--out", out.toString(), "--backend", "cpu"));
            if (f == 1) {
                args.add("--fuse-qkv");
            }
            assertEquals(ExitCodes.OK, cli.run(args.toArray(String[]::new)), cli.out() + cli.err());
            JsonNode report = new ObjectMapper().readTree(out.resolve("train.json").toFile());
            firstLoss[f] = report.path("logs").get(0).path("loss").asDouble();
        }
        // the first step's forward is the same sums with one GEMM or three: the same loss, bit for bit
        assertEquals(firstLoss[0], firstLoss[1]);
    }

    @Test
    void greedySortedPackingPadsLessThanPaddleNlpsGreedyRule() throws IOException {
        CpuModels.assume();
        // Short examples first, then long ones: in file order the short ones fill rows among themselves and each
        // long one finds no room and opens a row of its own; placed longest first, short ones fill the long ones' rows.
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            lines.append("{\"text\": \"").append("x".repeat(i < 20 ? 10 : 18)).append("\"}\n");
        }
        Path data = dir.resolve("lengths.jsonl");
        Files.writeString(data, lines);
        double[] ratios = new double[2];
        String[] choices = {"greedy", "greedy_sorted"};
        for (int c = 0; c < 2; c++) {
            int code = cli.run("train", "--model", tinyConfig().toString(), "--data", data.toString(), "--max-length",
                    "32", "--packing", choices[c], "--steps", "1", "--batch-size", "4", "--out",
                    dir.resolve(choices[c]).toString(), "--backend", "cpu");
            assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
            var m = java.util.regex.Pattern.compile("\\(" + choices[c] + " packing, pad ratio ([0-9.]+)%\\)")
                    .matcher(cli.out());
            assertTrue(m.find(), cli.out());
            ratios[c] = Double.parseDouble(m.group(1));
        }
        assertTrue(ratios[1] < ratios[0], "greedy " + ratios[0] + "%, greedy_sorted " + ratios[1] + "%");
    }

    @Test
    void badNumbersAndChoicesAreBadInputWithOneLineBeforeAnythingRuns() throws IOException {
        Path data = dir.resolve("train.jsonl");
        assertEquals(ExitCodes.OK, cli.run("make-data", "--task", "add", "--count", "5", "--out", data.toString()));
        String config = tinyConfig().toString();
        Path out = dir.resolve("out");
        List<String> base = List.of("train", "--model", config, "--data", data.toString(), "--out", out.toString(),
                "--backend", "cpu");
        List<List<String>> bad = List.of(
                List.of("--max-length", "32"),                                       // neither --steps nor --epochs
                List.of("--max-length", "32", "--steps", "2", "--epochs", "1"),      // both
                List.of("--max-length", "32", "--steps", "0"),
                List.of("--max-length", "1", "--steps", "2"),
                List.of("--max-length", "65", "--steps", "2"),                       // over max_seq_len 64
                List.of("--max-length", "32", "--steps", "2", "--lr", "-1"),
                List.of("--max-length", "32", "--steps", "2", "--lr", "NaN"),
                List.of("--max-length", "32", "--steps", "2", "--batch-size", "0"),
                List.of("--max-length", "32", "--steps", "2", "--grad-accum", "-3"),
                List.of("--max-length", "32", "--steps", "2", "--beta2", "1"),
                List.of("--max-length", "32", "--steps", "2", "--clip", "-0.5"),
                List.of("--max-length", "32", "--steps", "2", "--neftune-alpha", "-1"),
                List.of("--max-length", "32", "--steps", "2", "--neftune-scaling", "torch"),
                List.of("--max-length", "32", "--steps", "2", "--schedule", "exponential"),
                List.of("--max-length", "32", "--steps", "2", "--packing", "tight"),
                List.of("--max-length", "32", "--steps", "2", "--eval-every", "5"),  // without --eval
                List.of("--max-length", "32", "--steps", "2", "--keep", "0"),
                List.of("--max-length", "32", "--steps", "2", "--tokenizer", dir.resolve("none.json").toString()));
        for (List<String> extra : bad) {
            List<String> args = new java.util.ArrayList<>(base);
            args.addAll(extra);
            int code = cli.run(args.toArray(String[]::new));
            assertEquals(ExitCodes.BAD_INPUT, code, extra + ": " + cli.out() + cli.err());
            assertEquals(1, cli.err().lines().count(), extra + ": " + cli.err());
            assertTrue(cli.err().startsWith("train: "), cli.err());
        }
        assertTrue(!Files.exists(out.resolve("train.json")), "nothing ran");
        // an unknown backend, an encoder-decoder preset: bad input too
        assertEquals(ExitCodes.BAD_INPUT, cli.run("train", "--model", config, "--data", data.toString(), "--out",
                out.toString(), "--max-length", "32", "--steps", "1", "--backend", "nosuch"), cli.err());
        assertTrue(cli.err().contains("unknown backend 'nosuch'"), cli.err());
        assertEquals(ExitCodes.BAD_INPUT, cli.run("train", "--model", "t5", "--data", data.toString(), "--out",
                out.toString(), "--max-length", "32", "--steps", "1"), cli.err());
        assertTrue(cli.err().contains("encoder-decoder"), cli.err());
    }

    @Test
    void anOutputDirectoryWithCheckpointsNeedsResume() throws IOException {
        Path data = dir.resolve("train.jsonl");
        assertEquals(ExitCodes.OK, cli.run("make-data", "--task", "sort", "--count", "5", "--out", data.toString()));
        Path out = dir.resolve("out");
        CheckpointStore.at(out.resolve("checkpoints"), 3).save(1, java.util.Map.of(),
                new ObjectMapper().createObjectNode().put("step", 1));
        int code = cli.run("train", "--model", tinyConfig().toString(), "--data", data.toString(), "--max-length", "32",
                "--steps", "2", "--out", out.toString());
        assertEquals(ExitCodes.BAD_INPUT, code, cli.err());
        assertTrue(cli.err().contains("pass --resume"), cli.err());
    }

    @Test
    void generateRefusesBadSamplingAndTwoPrompts() throws IOException {
        String config = tinyConfig().toString();
        List<List<String>> bad = List.of(
                List.of("--prompt", "ab", "--prompt-ids", "1,2", "--max-new-tokens", "3"),
                List.of("--max-new-tokens", "3"),
                List.of("--prompt", "ab", "--max-new-tokens", "0"),
                List.of("--prompt", "ab", "--max-new-tokens", "3", "--top-p", "1.5"),
                List.of("--prompt", "ab", "--max-new-tokens", "3", "--temperature", "-1"),
                List.of("--prompt-ids", "1,259", "--max-new-tokens", "3"));
        for (List<String> extra : bad) {
            List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", config, "--backend", "cpu"));
            args.addAll(extra);
            assertEquals(ExitCodes.BAD_INPUT, cli.run(args.toArray(String[]::new)), extra + ": " + cli.err());
            assertEquals(1, cli.err().lines().count(), extra + ": " + cli.err());
        }
    }

    @Test
    void makeDataWritesEachTaskReproducibly() throws IOException {
        for (String task : List.of("copy", "reverse", "sort", "add")) {
            Path a = dir.resolve(task + "-a.jsonl");
            Path b = dir.resolve(task + "-b.jsonl");
            assertEquals(ExitCodes.OK, cli.run("make-data", "--task", task, "--count", "20", "--seed", "9", "--out",
                    a.toString()));
            assertEquals(ExitCodes.OK, cli.run("make-data", "--task", task, "--count", "20", "--seed", "9", "--out",
                    b.toString()));
            assertEquals(Files.readString(a), Files.readString(b));
            List<String> lines = Files.readAllLines(a);
            assertEquals(20, lines.size());
            for (String line : lines) {
                JsonNode n = new ObjectMapper().readTree(line);
                String prompt = n.path("prompt").asText();
                String completion = n.path("completion").asText();
                String arg = prompt.substring(prompt.indexOf(' ') + 1, prompt.length() - 1);
                switch (task) {
                    case "copy" -> assertEquals(arg, completion);
                    case "reverse" -> assertEquals(new StringBuilder(arg).reverse().toString(), completion);
                    case "sort" -> assertEquals(arg.chars().sorted().collect(StringBuilder::new,
                            StringBuilder::appendCodePoint, StringBuilder::append).toString(), completion);
                    default -> {
                        String[] ab = prompt.substring(0, prompt.length() - 1).split("\\+");
                        assertEquals(Long.parseLong(ab[0]) + Long.parseLong(ab[1]), Long.parseLong(completion), line);
                    }
                }
            }
        }
        assertEquals(ExitCodes.BAD_INPUT, cli.run("make-data", "--task", "add", "--max-len", "19", "--out",
                dir.resolve("x.jsonl").toString()));
    }
}
