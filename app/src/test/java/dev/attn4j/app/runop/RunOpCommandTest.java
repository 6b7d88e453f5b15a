package dev.attn4j.app.runop;

import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.conformance.fixtures.HostTensor;
import dev.attn4j.conformance.fixtures.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunOpCommandTest {
    /** A PyTorch-made case of the conformance suite (Maven runs tests in the module's folder). */
    private static final Path FLASHMASK_BACKWARD = Path.of("..", "conformance-tests", "src", "test", "resources", "fixtures",
            "flashmask_n4.safetensors");

    @TempDir
    Path dir;

    @Test
    void replaysAPyTorchCaseOnCpuChecksItAndWritesTheResults() {
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());
        Path out = dir.resolve("result.safetensors");

        int code = cli.run("run-op", FLASHMASK_BACKWARD.toString(), "--out", out.toString(), "--backend", "cpu");

        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        assertTrue(cli.out().lines().anyMatch(l -> l.matches("\\s+dq\\s+max\\|expected - cpu\\| = .*ok")), cli.out());
        SafetensorsFile written = SafetensorsFile.read(out);
        assertEquals(List.of("dk", "dq", "dv", "lse", "o"), written.tensors().keySet().stream().sorted().toList());
        assertEquals("cpu", written.metadata().get("backend"));
    }

    @Test
    void aHostileHeaderIsBadInputWithOneLine() throws IOException {
        Path hostile = dir.resolve("hostile.safetensors");
        byte[] header = "{\"q\":{\"dtype\":\"F32\",\"shape\":[1000000000,1000000000],\"data_offsets\":[0,4]}}"
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + header.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(header.length).put(header).putInt(0);
        Files.write(hostile, file.array());
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());

        int code = cli.run("run-op", hostile.toString(), "--out", dir.resolve("r.safetensors").toString());

        assertEquals(ExitCodes.BAD_INPUT, code);
        assertEquals(1, cli.err().lines().count(), cli.err());
        assertFalse(Files.exists(dir.resolve("r.safetensors")), "nothing is written for a rejected case");
    }

    @Test
    void aMissingCaseOrAnUnknownBackendIsBadInput() {
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());
        assertEquals(ExitCodes.BAD_INPUT, cli.run("run-op", dir.resolve("none.safetensors").toString(), "--out", "x"));
        CliHarness other = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());
        int code = other.run("run-op", FLASHMASK_BACKWARD.toString(), "--out", dir.resolve("r.safetensors").toString(),
                "--backend", "nosuch");
        // Issue 13 item 9: this was exit 1; docs/cli.md says an unknown backend name is bad input.
        assertEquals(ExitCodes.BAD_INPUT, code, other.err());
        assertTrue(other.err().contains("--backend: unknown backend 'nosuch'"), other.err());
    }

    // Issue 13 item 8: these ran (or failed at replay with exit 1) instead of being refused as bad input.

    @Test
    void aZeroSizedDimensionIsBadInput() {
        Map<String, HostTensor> t = plain();
        t.put("k", HostTensor.ofFloats(new float[0], 1, 0, 2, 4));
        assertRefused(t, Map.of("op", "attention_forward"), "tensor 'k': shape [1, 0, 2, 4] has no elements");
    }

    @Test
    void aDropoutProbabilityOfNaNOrBelowZeroIsBadInput() {
        assertRefused(plain(), Map.of("op", "attention_forward", "dropout_p", "NaN"),
                "metadata dropout_p: expected a probability in [0, 1), got NaN");
        assertRefused(plain(), Map.of("op", "attention_forward", "dropout_p", "-0.5"),
                "metadata dropout_p: expected a probability in [0, 1), got -0.5");
    }

    @Test
    void aBoolByteOfTwoIsBadInput() throws IOException {
        // q, k, v F32 [1, 2, 2, 4] (3 × 64 bytes) then a dense mask [1, 1, 2, 2] whose third byte is 2.
        String header = "{\"__metadata__\":{\"op\":\"attention_forward\"},"
                + "\"k\":{\"dtype\":\"F32\",\"shape\":[1,2,2,4],\"data_offsets\":[0,64]},"
                + "\"q\":{\"dtype\":\"F32\",\"shape\":[1,2,2,4],\"data_offsets\":[64,128]},"
                + "\"v\":{\"dtype\":\"F32\",\"shape\":[1,2,2,4],\"data_offsets\":[128,192]},"
                + "\"dense_mask\":{\"dtype\":\"BOOL\",\"shape\":[1,1,2,2],\"data_offsets\":[192,196]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + h.length + 196).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(h.length).put(h).put(new byte[192]).put(new byte[] {1, 1, 2, 1});
        Path bad = dir.resolve("bool.safetensors");
        Files.write(bad, file.array());
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());
        assertEquals(ExitCodes.BAD_INPUT, cli.run("run-op", bad.toString(), "--out", dir.resolve("r.safetensors").toString()),
                cli.err());
        assertTrue(cli.err().contains("tensor 'dense_mask': BOOL element 2 is 2, expected 0 or 1"), cli.err());
        assertEquals(1, cli.err().lines().count(), cli.err());
    }

    private static Map<String, HostTensor> plain() {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("q", HostTensor.ofFloats(new float[16], 1, 2, 2, 4));
        t.put("k", HostTensor.ofFloats(new float[16], 1, 2, 2, 4));
        t.put("v", HostTensor.ofFloats(new float[16], 1, 2, 2, 4));
        return t;
    }

    private void assertRefused(Map<String, HostTensor> tensors, Map<String, String> metadata, String expectedPart) {
        Path bad = dir.resolve("bad.safetensors");
        new SafetensorsFile(tensors, metadata).write(bad);
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), SuiteFactory.standard());
        int code = cli.run("run-op", bad.toString(), "--out", dir.resolve("r.safetensors").toString());
        assertEquals(ExitCodes.BAD_INPUT, code, cli.out() + cli.err());
        assertTrue(cli.err().contains(expectedPart), cli.err());
        assertEquals(1, cli.err().lines().count(), cli.err());
        assertFalse(Files.exists(dir.resolve("r.safetensors")), "nothing is written for a rejected case");
    }
}
