package dev.attn4j.app.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.FakeProviders;
import dev.attn4j.app.ReportPages;
import dev.attn4j.conformance.CaseResult;
import dev.attn4j.conformance.ConformanceSuite;
import dev.attn4j.conformance.Op;
import dev.attn4j.conformance.Outcome;
import dev.attn4j.ports.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/** The command's logic over a scripted suite: counting, exit codes, errors, report. */
class ConformanceCommandTest {
    private static final String UNAVAILABLE_REASON = "no OpenCL platform (libOpenCL.so.1 not found)";

    private final List<String> runOn = new ArrayList<>();

    /** A suite that returns {@code script(backend)} for a backend that runs, and two skipped cases otherwise. */
    private ConformanceSuite scripted(Function<String, List<CaseResult>> script) {
        ConformanceSuite suite = mock(ConformanceSuite.class);
        when(suite.cases()).thenReturn(List.of());
        when(suite.runAll(any(), any())).thenAnswer(inv -> {
            Backend backend = inv.getArgument(0);
            Consumer<CaseResult> listener = inv.getArgument(1);
            runOn.add(backend.name());
            List<CaseResult> results = script.apply(backend.name());
            results.forEach(listener);
            return results;
        });
        when(suite.skipAll(anyString(), anyString())).thenAnswer(inv -> List.of(
                new CaseResult(Op.ATTENTION_FORWARD, inv.getArgument(0), "a0", Outcome.SKIPPED, Double.NaN, inv.getArgument(1)),
                new CaseResult(Op.NORM_FORWARD, inv.getArgument(0), "n0", Outcome.SKIPPED, Double.NaN, inv.getArgument(1))));
        return suite;
    }

    private static List<CaseResult> passing(String backend) {
        return List.of(
                new CaseResult(Op.ATTENTION_FORWARD, backend, "a0", Outcome.PASSED, 0.25, ""),
                new CaseResult(Op.ATTENTION_FORWARD, backend, "a1", Outcome.PASSED, 0.5, ""),
                new CaseResult(Op.ATTENTION_FORWARD, backend, "a2", Outcome.UNSUPPORTED, Double.NaN, "DROPOUT"),
                new CaseResult(Op.NORM_FORWARD, backend, "n0", Outcome.PASSED, 0.125, ""));
    }

    private CliHarness cli(ConformanceSuite suite) {
        return new CliHarness(List.of(CliHarness.cpu(), FakeProviders.unavailable("opencl-test", UNAVAILABLE_REASON)),
                (cases, seed) -> suite);
    }

    @Test
    void passesWhenEveryCaseThatRanPassedAndShowsSkippedBackendsWithTheirReason() {
        CliHarness cli = cli(scripted(ConformanceCommandTest::passing));

        int code = cli.run("conformance");

        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        assertEquals(List.of("cpu"), runOn);
        assertTrue(cli.out().lines().anyMatch(l -> l.matches(
                "attention_forward\\s+cpu\\s+3\\s+2\\s+0\\s+1\\s+0\\s+0\\.500\\s+unsupported: DROPOUT")),
                cli.out());
        assertTrue(cli.out().lines().anyMatch(l -> l.matches("norm_forward\\s+cpu\\s+1\\s+1\\s+0\\s+0\\s+0\\s+0\\.125")),
                cli.out());
        assertTrue(cli.out().lines().anyMatch(l -> l.matches(
                "attention_forward\\s+opencl-test\\s+1\\s+0\\s+0\\s+0\\s+1\\s+-\\s+skipped: no OpenCL platform.*")),
                cli.out());
        assertEquals("", cli.err());
    }

    @Test
    void failsWithExitOneAndListsTheFailedCase() {
        CliHarness cli = cli(scripted(backend -> List.of(
                new CaseResult(Op.ATTENTION_FORWARD, backend, "a0", Outcome.PASSED, 0.5, ""),
                new CaseResult(Op.ATTENTION_BACKWARD, backend, "b0 causal", Outcome.FAILED, 7.5, "dq: max error 3e-2 > tol 4e-3"))));

        int code = cli.run("conformance", "--backend", "cpu");

        assertEquals(ExitCodes.FAILED, code);
        assertTrue(cli.out().contains("failed cases:\n  cpu attention_backward b0 causal (err/tol 7.50): dq: max error 3e-2 > tol 4e-3"),
                cli.out());
        assertTrue(cli.err().contains("1 case(s) failed"), cli.err());
    }

    @Test
    void aNamedBackendThatCannotRunIsAFailureNotASilentSkip() {
        ConformanceSuite suite = scripted(ConformanceCommandTest::passing);
        CliHarness cli = cli(suite);

        int code = cli.run("conformance", "--backend", "opencl-test");

        assertEquals(ExitCodes.FAILED, code);
        assertTrue(cli.err().contains("backend 'opencl-test' was requested but is unavailable: " + UNAVAILABLE_REASON), cli.err());
        verify(suite, never()).runAll(any(), any());
    }

    @Test
    void anAvailableBackendThatWillNotOpenFailsEveryCaseVisibly() {
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu(), FakeProviders.failsToOpen("busy")),
                (cases, seed) -> scripted(ConformanceCommandTest::passing));

        int code = cli.run("conformance");

        assertEquals(ExitCodes.FAILED, code);
        assertEquals(List.of("cpu"), runOn);
        assertTrue(cli.out().lines().anyMatch(l -> l.matches(
                "attention_forward\\s+busy\\s+1\\s+0\\s+1\\s+0\\s+0\\s+-\\s+failed: could not open: .*device 0 is busy.*")),
                cli.out());
        assertTrue(cli.err().contains("backend 'busy' could not open"), cli.err());
    }

    @Test
    void unknownBackendIsBadInputWithOneLineAndNothingRun() {
        ConformanceSuite suite = scripted(ConformanceCommandTest::passing);
        CliHarness cli = cli(suite);

        int code = cli.run("conformance", "--backend", "cpu,nope");

        assertEquals(ExitCodes.BAD_INPUT, code);
        assertEquals(1, cli.err().lines().count(), cli.err());
        assertTrue(cli.err().contains("unknown backend 'nope', expected one of cpu, opencl-test"), cli.err());
        assertEquals("", cli.out());
        verify(suite, never()).runAll(any(), any());
    }

    @Test
    void aSuiteConfigurationTheSuiteRejectsIsBadInput() {
        CliHarness cli = new CliHarness(List.of(CliHarness.cpu()), (cases, seed) -> {
            throw new IllegalArgumentException("-Dattn4j.conformance.cases: expected a positive integer, got 'abc'");
        });

        assertEquals(ExitCodes.BAD_INPUT, cli.run("conformance"));
        assertEquals("conformance: -Dattn4j.conformance.cases: expected a positive integer, got 'abc'"
                + " (see 'attn4j conformance --help')", cli.err().strip());
    }

    @Test
    void verbosePrintsTheStackTraceOfBadInput() {
        CliHarness cli = cli(scripted(ConformanceCommandTest::passing));

        for (List<String> args : List.of(List.of("--verbose", "conformance", "--backend", "nope"),
                List.of("conformance", "--backend", "nope", "-v"))) {
            int code = cli.run(args.toArray(String[]::new));

            assertEquals(ExitCodes.BAD_INPUT, code);
            assertTrue(cli.err().lines().count() > 1, cli.err());
            assertTrue(cli.err().contains("\tat "), cli.err());
        }
    }

    @Test
    void anErrorWhileRunningIsOneLineWithExitOneAndTheTraceOnlyWhenVerbose(@TempDir Path dir) throws IOException {
        CliHarness cli = cli(scripted(ConformanceCommandTest::passing));
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");

        assertEquals(ExitCodes.FAILED, cli.run("conformance", "--report", notADirectory.toString()));
        assertEquals(1, cli.err().lines().count(), cli.err());
        assertTrue(cli.err().startsWith("conformance: error: cannot write the report into " + notADirectory), cli.err());

        assertEquals(ExitCodes.FAILED, cli.run("conformance", "--report", notADirectory.toString(), "--verbose"));
        assertTrue(cli.err().contains("\tat "), cli.err());
    }

    @Test
    void badNumbersUnknownOptionsAndAMissingCommandAreBadInput() {
        CliHarness cli = cli(scripted(ConformanceCommandTest::passing));
        List<List<String>> bad = List.of(List.of("conformance", "--cases", "0"), List.of("conformance", "--cases", "-3"),
                List.of("conformance", "--cases", "many"), List.of("conformance", "--seed", "x"),
                List.of("conformance", "--frobnicate"), List.of("bogus"), List.of());
        for (List<String> args : bad) {
            int code = cli.run(args.toArray(String[]::new));
            assertEquals(ExitCodes.BAD_INPUT, code, args + ": " + cli.err());
            assertEquals(1, cli.err().lines().count(), args + ": " + cli.err());
            assertFalse(cli.err().contains("Exception"), args + ": " + cli.err());
        }
        assertTrue(runOn.isEmpty());
    }

    @Test
    void reportHasOneRecordPerOpAndBackendWithEveryField(@TempDir Path dir) throws IOException {
        CliHarness cli = cli(scripted(ConformanceCommandTest::passing));
        Path reportDir = dir.resolve("nested/report");

        int code = cli.run("conformance", "--report", reportDir.toString());

        assertEquals(ExitCodes.OK, code, cli.err());
        JsonNode records = new ObjectMapper().readTree(reportDir.resolve("conformance.json").toFile());
        assertTrue(records.isArray());
        assertEquals(4, records.size(), records.toPrettyString());
        Set<String> keys = new HashSet<>();
        for (JsonNode r : records) {
            Set<String> fields = new HashSet<>();
            r.fieldNames().forEachRemaining(fields::add);
            assertEquals(Set.of("op", "backend", "cases", "passed", "failed", "unsupported", "skipped", "reason",
                    "worst_error_ratio"), fields);
            assertTrue(keys.add(r.get("op").asText() + "@" + r.get("backend").asText()), "duplicate " + r);
        }
        assertEquals(Set.of("attention_forward@cpu", "norm_forward@cpu", "attention_forward@opencl-test",
                "norm_forward@opencl-test"), keys);
        JsonNode attentionCpu = records.get(0);
        assertEquals(3, attentionCpu.get("cases").asInt());
        assertEquals(2, attentionCpu.get("passed").asInt());
        assertEquals(1, attentionCpu.get("unsupported").asInt());
        assertEquals(0.5, attentionCpu.get("worst_error_ratio").asDouble());
        JsonNode skipped = records.get(2);
        assertEquals(1, skipped.get("skipped").asInt());
        assertTrue(skipped.get("worst_error_ratio").isNull());
        assertEquals("skipped: " + UNAVAILABLE_REASON, skipped.get("reason").asText());

        JsonNode cases = new ObjectMapper().readTree(reportDir.resolve("conformance-cases.json").toFile());
        assertEquals(6, cases.size());
        assertEquals("UNSUPPORTED", cases.get(2).get("outcome").asText());
        assertTrue(Files.readString(reportDir.resolve("conformance.html")).contains("data:image/png;base64,"));
    }

    @Test
    void htmlReportHasItsTitleTheChartAndOneSummaryRowPerOpAndBackend(@TempDir Path dir) throws IOException {
        CliHarness cli = cli(scripted(ConformanceCommandTest::passing));

        assertEquals(ExitCodes.OK, cli.run("conformance", "--report", dir.toString()), cli.err());

        String html = Files.readString(dir.resolve("conformance.html"));
        assertEquals("attn4j conformance", ReportPages.title(html));
        assertTrue(html.contains("<th>op</th><th>backend</th><th>cases</th><th>passed</th><th>failed</th>"), html);
        List<List<String>> rows = ReportPages.rows(html);
        assertEquals(List.of("attention_forward@cpu", "norm_forward@cpu", "attention_forward@opencl-test",
                "norm_forward@opencl-test"), rows.stream().map(r -> r.get(0) + "@" + r.get(1)).toList());
        assertEquals(List.of("attention_forward", "cpu", "3", "2", "0", "1", "0", "0.500", "unsupported: DROPOUT"),
                rows.getFirst());
        assertEquals("&ndash;", rows.get(2).get(7), "a skipped backend has no ratio");
        assertTrue(html.contains("<tr class=\"skipped\">"));
        BufferedImage chart = ReportPages.decode(ReportPages.embeddedPng(html));
        assertTrue(chart.getWidth() >= 640 && chart.getHeight() >= 300,
                "chart " + chart.getWidth() + "x" + chart.getHeight());
        assertFalse(html.contains("src=\"http"), "self-contained");
    }
}
