package dev.attn4j.app.train;

import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.domain.generation.Generator;
import dev.attn4j.domain.generation.Sampling;
import dev.attn4j.domain.model.EncoderDecoder;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.XTransformerConfig;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code attn4j generate} with an encoder–decoder: the CLI's ids are the library's {@link Generator} on the same
 * weights, source and start, and the source options are required for, and only for, an encoder–decoder.
 */
class GenerateCommandTest {
    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());

    @Test
    void anEncoderDecoderContinuesItsStartAgainstTheEncodedSourceAsTheLibraryDoes() throws IOException {
        CpuModels.assume();
        Path config = dir.resolve("t5.json");
        Path weights = dir.resolve("w.safetensors");
        ForwardCommandTest.splitFixture(ForwardCommandTest.MODELS.resolve("t5_small.safetensors"), config, weights);
        int[] source = {5, 17, 3, 42, 9};
        int code = cli.run("generate", "--model", config.toString(), "--weights", weights.toString(), "--source-ids",
                "5,17,3,42,9", "--prompt-ids", "0", "--max-new-tokens", "6", "--backend", "cpu");
        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        int[] expected;
        try (Backend b = Backends.open("cpu");
             EncoderDecoder m = EncoderDecoder.create(b, (XTransformerConfig) ModelConfigs.parse(Files.readString(config)), 1L)) {
            m.loadStateDict(Models.readWeights(weights));
            expected = Generator.generate(m, TokenBatch.of(source, 1, source.length), new int[][] {{0}}, 6,
                    Sampling.greedy(), OptionalInt.empty())[0];
        }
        assertEquals(6, expected.length);
        assertEquals("ids: " + Arrays.stream(expected).mapToObj(Integer::toString).collect(Collectors.joining(",")),
                cli.out().strip());
    }

    @Test
    void sourceOptionsAreRequiredForAndOnlyForAnEncoderDecoder() throws IOException {
        Path config = dir.resolve("t5.json");
        Path weights = dir.resolve("w.safetensors");
        ForwardCommandTest.splitFixture(ForwardCommandTest.MODELS.resolve("t5_small.safetensors"), config, weights);
        assertEquals(ExitCodes.BAD_INPUT, cli.run("generate", "--model", config.toString(), "--weights",
                weights.toString(), "--prompt-ids", "0", "--max-new-tokens", "2", "--backend", "cpu"), cli.err());
        assertTrue(cli.err().contains("needs the encoder's input"), cli.err());
        assertEquals(ExitCodes.BAD_INPUT, cli.run("generate", "--model", config.toString(), "--weights",
                weights.toString(), "--source-ids", "1,59", "--prompt-ids", "0", "--max-new-tokens", "2"), cli.err());
        assertTrue(cli.err().contains("--source: expected ids in [0, 59)"), cli.err());
        assertEquals(ExitCodes.BAD_INPUT, cli.run("generate", "--model", "gpt", "--source-ids", "1,2", "--prompt-ids",
                "0", "--max-new-tokens", "2"), cli.err());
        assertTrue(cli.err().contains("only for encoder-decoder models"), cli.err());
    }
}
