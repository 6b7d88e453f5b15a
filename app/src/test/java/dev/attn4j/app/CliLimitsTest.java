package dev.attn4j.app;

import dev.attn4j.app.conformance.SuiteFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 item 9: every bad number is refused up front with exit 2 and one line; sizes that cannot fit the heap
 * are refused with an estimate of what they would need. Before: OutOfMemoryError traces, exit 1, or a silent run
 * of every backend.
 */
class CliLimitsTest {
    private final HostBackend host = new HostBackend();
    private final CliHarness cli = new CliHarness(List.of(host), SuiteFactory.standard());

    private void assertBadInput(String expectedPart, String... args) {
        int code = cli.run(args);
        assertEquals(ExitCodes.BAD_INPUT, code, () -> String.join(" ", args) + "\n" + cli.out() + cli.err());
        assertEquals(1, cli.err().lines().count(), () -> "one line: " + cli.err());
        assertTrue(cli.err().contains(expectedPart), () -> "expected <" + expectedPart + "> in " + cli.err());
        assertEquals(0, host.attentionForward.get() + host.normForward.get(), "nothing ran");
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aConformanceSweepOfTwoBillionCasesIsRefused() {
        assertBadInput("--cases: expected 1 to 1000000, got 2000000000", "conformance", "--cases", "2000000000");
    }

    @Test
    void aSweepTooLargeForTheHeapIsRefusedWithAnEstimate() {
        // A million configurations fit the cap; with their results on one backend they need about 2.2 GiB, which
        // the test JVM may or may not have: either it runs (not here: only the refusal is checked) or says why.
        long need = 1_000_000L * (2 * 256 + 4 * 512);
        Runtime rt = Runtime.getRuntime();
        if (need > rt.maxMemory()) {
            assertBadInput("GiB of Java heap for their cases and results, but this JVM can use", "conformance", "--cases",
                    "1000000");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--repeats: expected 1 to 1000000, got 2000000000|--repeats|2000000000",
            "--warmup: expected 0 to 1000000, got 2000000000|--warmup|2000000000",
            "--threads: expected 1 to 1024, got 100000|--threads|100000",
            "--seq: expected 1 to 2147483647, got 0|--seq|0"})
    void badBenchNumbersAreRefused(String expected, String option, String value) {
        assertBadInput(expected, "bench", "attention", option, value);
    }

    @Test
    void benchSizesBackendsCannotIndexAreRefused() {
        assertBadInput("--seq 2147483647: q [B, S, H, D] has 1099511627264 elements, expected at most 2147483647",
                "bench", "attention", "--seq", "2147483647");
        assertBadInput("--seq 512: q [B, S, H, D] has 26214400000000 elements", "bench", "attention", "--batch", "100000000",
                "--seq", "512");
        assertBadInput("--seq 4096: batch x seq = 409600000000 rows", "bench", "norm", "--batch", "100000000", "--seq",
                "4096");
    }

    @Test
    void benchSizesThatCannotFitTheHeapAreRefusedWithAnEstimate() {
        // S = 10^6, H = 8, D = 64: q, k, v and o are 2 GiB each, and the cpu workers' packed keys more.
        assertBadInput("--seq 1000000: attention B=1 S=1000000 H=8 Hkv=8 D=64 F32 needs about", "bench", "attention",
                "--seq", "1000000", "--heads", "8", "--head-dim", "64");
        assertTrue(cli.err().contains("GiB of Java heap (inputs, outputs and working memory), but this JVM can use"),
                cli.err());
    }

    @Test
    void unknownBackendNamesAreBadInputEverywhere() {
        assertBadInput("--backend: unknown backend 'nope', expected one of host", "bench", "attention", "--backend", "nope");
        assertBadInput("--backend: unknown backend 'nope', expected one of host", "conformance", "--backend", "nope");
        assertBadInput("--backend: unknown backend 'nope', expected one of host", "run-op",
                "../conformance-tests/src/test/resources/fixtures/single_token.safetensors", "--out", "/tmp/x", "--backend",
                "nope");
    }

    @Test
    void anUnknownBackendRequestedByPropertyIsBadInputNotARunOfEveryBackend() {
        int code = cli.runRequesting("nope", "conformance", "--cases", "1");
        assertEquals(ExitCodes.BAD_INPUT, code, cli.out() + cli.err());
        assertEquals("conformance: -Dattn4j.backend / ATTN4J_BACKEND: unknown backend 'nope', expected one of host "
                + "(see 'attn4j conformance --help')", cli.err().strip());
        assertEquals(0, host.attentionForward.get());
        assertEquals(ExitCodes.BAD_INPUT, cli.runRequesting("nope", "bench", "norm", "--seq", "4"));
        assertEquals(ExitCodes.BAD_INPUT, cli.runRequesting("nope", "run-op",
                "../conformance-tests/src/test/resources/fixtures/single_token.safetensors", "--out", "/tmp/x"));
    }

    @Test
    void aBackendRequestedByPropertyIsTheOneThatRuns() {
        int code = cli.runRequesting("host", "bench", "norm", "--seq", "4", "--repeats", "1", "--warmup", "0");
        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        assertEquals(1, host.normForward.get());
    }
}
