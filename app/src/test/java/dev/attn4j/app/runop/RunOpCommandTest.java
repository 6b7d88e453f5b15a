package dev.attn4j.app.runop;

import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.conformance.fixtures.Safetensors;
import dev.attn4j.conformance.fixtures.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
        SafetensorsFile written = Safetensors.read(out);
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
        assertTrue(code != ExitCodes.OK, other.err());
        assertTrue(other.err().contains("nosuch"), other.err());
    }
}
