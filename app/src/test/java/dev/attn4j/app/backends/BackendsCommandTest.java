package dev.attn4j.app.backends;

import dev.attn4j.app.Attn4jCli;
import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.FakeProviders;
import dev.attn4j.app.console.ProgressFactory;
import dev.attn4j.app.conformance.SuiteFactory;
import dev.attn4j.ports.spi.BackendSelector;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackendsCommandTest {

    @Test
    void listsCpuFromTheClassPathAsAvailableWithItsCapabilities() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliEnvironment env = new CliEnvironment(BackendSelector::fromServiceLoader, SuiteFactory.standard(),
                new PrintWriter(out, true), new PrintWriter(err, true), ProgressFactory.none());

        int code = Attn4jCli.run(env, "backends");

        assertEquals(ExitCodes.OK, code, err.toString());
        assertTrue(out.toString().lines().anyMatch(l -> l.matches("cpu\\s+available\\s+100\\s+HOST\\s+.+")), out.toString());
        // without a GPU (opencl on POCL, as on this project's machines, runs on the host CPU through a driver)
        // the native cpu backend is the default
        if (out.toString().lines().noneMatch(l -> l.matches("\\S+\\s+available\\s+\\d+\\s+(GPU|ACCELERATOR)\\s.*"))) {
            assertTrue(out.toString().lines().findFirst().orElseThrow().endsWith(
                    "selected by default: cpu (runs on the host CPU (native); preferred to opencl: runs on the host CPU "
                            + "through a device API)")
                    || !out.toString().contains("opencl   available"), out.toString());
        }
        assertTrue(out.toString().contains("cpu:\n"), out.toString());
        // one line per port the backend declares: dtypes, then (for attention) head dims and features
        assertTrue(out.toString().lines().anyMatch(l -> l.matches("\\s+tensors:\\s+.*F32.*")), out.toString());
        assertTrue(out.toString().lines().anyMatch(l -> l.matches(
                "\\s+attention:\\s+.*F32.*; head dims \\d+\\.\\.\\d+; .*CAUSAL.*")), out.toString());
        assertTrue(out.toString().lines().anyMatch(l -> l.matches("\\s+normalization:\\s+.*; .*RMS_NORM.*")), out.toString());
        assertEquals("", err.toString());
    }

    @Test
    void listsUnavailableProvidersWithTheirReasonAndWithoutOpeningThem() {
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu(),
                FakeProviders.unavailable("gpu-test", "no driver found (libgpu.so.1 missing)")), SuiteFactory.standard());

        int code = cli.run("backends");

        assertEquals(ExitCodes.OK, code, cli.err());
        assertTrue(cli.out().startsWith("2 backend provider(s) on the class path; selected by default: cpu"), cli.out());
        assertTrue(cli.out().lines().anyMatch(l -> l.matches(
                "gpu-test\\s+unavailable\\s+50\\s+-\\s+no driver found \\(libgpu\\.so\\.1 missing\\)")), cli.out());
        assertTrue(!cli.out().contains("gpu-test:"), "an unavailable backend has no capabilities section");
    }

    @Test
    void anAvailableBackendThatWillNotOpenFailsTheCommand() {
        // docs/cli.md: exit 1 for "a device that would not open"
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu(), FakeProviders.failsToOpen("busy")),
                SuiteFactory.standard());

        int code = cli.run("backends");

        assertEquals(ExitCodes.FAILED, code, cli.out());
        assertTrue(cli.out().contains("busy:\n  device:       device 0\n  could not be opened: "), cli.out());
        assertTrue(cli.out().contains("cpu:\n"), "the other backends are still described: " + cli.out());
        assertTrue(cli.err().contains("could not be opened"), cli.err());
    }
}
