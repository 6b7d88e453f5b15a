package dev.attn4j.app.train;

import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.SafetensorsWriter;
import dev.attn4j.domain.safetensors.TensorEntry;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code attn4j forward} against x-transformers 1.20 (the model fixtures of make_model_fixtures.py): the logits,
 * AutoregressiveWrapper's loss over kept targets, and every parameter's gradient, within the pass rule.
 */
class ForwardCommandTest {
    static final Path MODELS = Path.of("..", "conformance-tests", "src", "test", "resources", "models");

    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());

    @Test
    void logitsLossAndGradientsOfAPaddedOrcaMatchXTransformers() throws IOException {
        CpuModels.assume();
        Path fixture = MODELS.resolve("orca_small_mask.safetensors");
        Path config = dir.resolve("config.json");
        Path weights = dir.resolve("w.safetensors");
        Path tokens = dir.resolve("t.safetensors");
        Map<String, String> meta = splitFixture(fixture, config, weights);
        try (SafetensorsReader f = SafetensorsReader.open(fixture)) {
            TensorEntry ids = f.entry("ids");
            SafetensorsWriter.create().i32("ids", f.readInts("ids"), ids.shape())
                    .u8("mask", f.readBytes("mask"), ids.shape()).write(tokens);
        }
        forwardMatchesFixture(fixture, meta, config, weights, tokens, dir.resolve("o.safetensors"));
        assertTrue(cli.out().contains("loss "), cli.out());
    }

    @Test
    void anEncoderDecoderMatchesXTransformersXTransformer() throws IOException {
        CpuModels.assume();
        Path fixture = MODELS.resolve("t5_small.safetensors");
        Path config = dir.resolve("t5.json");
        Path weights = dir.resolve("w.safetensors");
        Path tokens = dir.resolve("t.safetensors");
        Map<String, String> meta = splitFixture(fixture, config, weights);
        try (SafetensorsReader f = SafetensorsReader.open(fixture)) {
            TensorEntry src = f.entry("src");
            TensorEntry tgt = f.entry("tgt");
            SafetensorsWriter.create().i32("src", f.readInts("src"), src.shape())
                    .u8("src_mask", f.readBytes("src_mask"), src.shape())
                    .i32("tgt", f.readInts("tgt"), tgt.shape())
                    .u8("tgt_mask", f.readBytes("tgt_mask"), tgt.shape()).write(tokens);
        }
        Path out = dir.resolve("o.safetensors");
        forwardMatchesFixture(fixture, meta, config, weights, tokens, out);
        // the decoder-only inputs are refused for an encoder-decoder, naming what is missing
        Path idsOnly = dir.resolve("ids.safetensors");
        SafetensorsWriter.create().i32("ids", new int[] {1, 2}, 1, 2).write(idsOnly);
        assertEquals(ExitCodes.BAD_INPUT, cli.run("forward", "--model", config.toString(), "--weights",
                weights.toString(), "--tokens", idsOnly.toString(), "--out", out.toString()), cli.err());
        assertTrue(cli.err().contains("has no 'src' tensor"), cli.err());
    }

    /**
     * Runs {@code forward --grads} on the cpu backend and checks the logits, the loss and every parameter's gradient
     * against the fixture's expected values; the output holds nothing else.
     */
    private void forwardMatchesFixture(Path fixture, Map<String, String> meta, Path config, Path weights, Path tokens,
                                       Path out) throws IOException {
        int code = cli.run("forward", "--model", config.toString(), "--weights", weights.toString(), "--tokens",
                tokens.toString(), "--out", out.toString(), "--grads", "--backend", "cpu");
        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        int grads = 0;
        try (SafetensorsReader f = SafetensorsReader.open(fixture); SafetensorsReader o = SafetensorsReader.open(out)) {
            check("logits", f.readDoubles("expected.logits"), meta, o.readFloats("logits"));
            check("loss", f.readDoubles("expected.loss"), meta, o.readFloats("loss"));
            for (TensorEntry e : f.entries()) {
                if (e.name().startsWith("expected.grad.")) {
                    String name = e.name().substring("expected.".length());
                    check(name, f.readDoubles(e.name()), meta, o.readFloats(name));
                    grads++;
                }
            }
            assertEquals(grads + 2, o.entries().size(), "logits, loss and one gradient per parameter");
        }
        assertTrue(grads > 20, grads + " gradients");
    }

    /** Writes the fixture's config and its weights (without the {@code weights.} prefix); returns its metadata. */
    static Map<String, String> splitFixture(Path fixture, Path config, Path weights) throws IOException {
        try (SafetensorsReader f = SafetensorsReader.open(fixture)) {
            Files.writeString(config, f.metadata().get("config"));
            SafetensorsWriter w = SafetensorsWriter.create();
            for (TensorEntry e : f.entries()) {
                if (e.name().startsWith("weights.")) {
                    w.f32(e.name().substring("weights.".length()), f.readFloats(e.name()), e.shape());
                }
            }
            w.write(weights);
            return f.metadata();
        }
    }

    static void check(String name, double[] golden, Map<String, String> meta, float[] test) {
        double tolerance = Math.max(PassRule.atol(DType.F32), PassRule.FUDGE * Double.parseDouble(meta.get("ref_err." + name)));
        assertEquals(golden.length, test.length, name);
        double worst = 0;
        for (int i = 0; i < golden.length; i++) {
            worst = Math.max(worst, Double.isNaN(test[i]) ? Double.POSITIVE_INFINITY : Math.abs(golden[i] - test[i]));
        }
        double w = worst;
        assertTrue(worst <= tolerance, () -> name + ": max|golden - test| = " + w + " > " + tolerance);
    }

    @Test
    void tokensWithoutIdsOrWithBadMasksAreBadInputWithOneLine() throws IOException {
        Path config = dir.resolve("config.json");
        try (SafetensorsReader f = SafetensorsReader.open(MODELS.resolve("orca_small.safetensors"))) {
            Files.writeString(config, f.metadata().get("config"));
        }
        Path weights = dir.resolve("w.safetensors");
        SafetensorsWriter.create().f32("x", new float[] {1}, 1).write(weights);
        Path noIds = dir.resolve("no-ids.safetensors");
        SafetensorsWriter.create().i32("tokens", new int[] {1, 2}, 1, 2).write(noIds);
        Path badMask = dir.resolve("bad-mask.safetensors");
        SafetensorsWriter.create().i32("ids", new int[] {1, 2}, 1, 2).u8("mask", new byte[] {1, 2}, 1, 2).write(badMask);
        Path outOfVocabulary = dir.resolve("oov.safetensors");
        SafetensorsWriter.create().i32("ids", new int[] {1, 61}, 1, 2).write(outOfVocabulary);
        for (Path t : List.of(noIds, badMask, outOfVocabulary)) {
            Path out = dir.resolve("o.safetensors");
            int code = cli.run("forward", "--model", config.toString(), "--weights", weights.toString(), "--tokens",
                    t.toString(), "--out", out.toString(), "--backend", "cpu");
            assertEquals(ExitCodes.BAD_INPUT, code, t + ": " + cli.err());
            assertEquals(1, cli.err().lines().count(), cli.err());
            assertFalse(Files.exists(out));
        }
    }
}
