package dev.attn4j.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.app.CliHarness;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.FakeProviders;
import dev.attn4j.app.HostBackend;
import dev.attn4j.app.ReportPages;
import dev.attn4j.app.conformance.SuiteFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {
    private final HostBackend host = new HostBackend();
    private final CliHarness cli = new CliHarness(List.of(host, FakeProviders.unavailable("gpu-test", "no driver")),
            SuiteFactory.standard());

    private static JsonNode results(Path dir) throws IOException {
        return new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
    }

    @Test
    void timesEachLengthAfterWarmUpAndReportsEveryField(@TempDir Path dir) throws IOException {
        int code = cli.run("bench", "attention", "--seq", "8,16", "--heads", "4", "--kv-heads", "2", "--head-dim", "32",
                "--warmup", "2", "--repeats", "3", "--threads", "3", "--out", dir.toString());

        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        assertEquals(2 * (2 + 3), host.attentionForward.get());
        assertEquals(0, host.attentionBackward.get());
        assertEquals(Map.of("threads", "3"), host.openedWith.values());
        JsonNode records = results(dir);
        assertEquals(2, records.size());
        Set<String> fields = new HashSet<>();
        records.get(0).fieldNames().forEachRemaining(fields::add);
        assertTrue(fields.containsAll(Set.of("backend", "op", "batch", "heads", "kv_heads", "seq", "head_dim", "dtype",
                "causal", "backward", "threads", "ms_median", "gflops")), fields.toString());
        JsonNode first = records.get(0);
        assertEquals("host", first.get("backend").asText());
        assertEquals("attention", first.get("op").asText());
        assertEquals(8, first.get("seq").asInt());
        assertEquals(2, first.get("kv_heads").asInt());
        assertEquals(3, first.get("threads").asInt());
        assertEquals("F32", first.get("dtype").asText());
        assertFalse(first.get("causal").asBoolean());
        double ms = first.get("ms_median").asDouble();
        assertTrue(first.get("ms_min").asDouble() <= ms && ms <= first.get("ms_max").asDouble(), first.toString());
        double flops = 4.0 * 1 * 4 * 8 * 8 * 32;
        assertEquals(flops / (ms * 1e-3) / 1e9, first.get("gflops").asDouble(), 1e-9 * first.get("gflops").asDouble());
        assertEquals(16, records.get(1).get("seq").asInt());
        assertTrue(cli.out().lines().anyMatch(l -> l.matches("host\\s+attention\\s+8\\s+no\\s+no\\s+3\\s+.*\\sok")), cli.out());
    }

    @Test
    void outAlsoWritesAChartAndASelfContainedPageWithARowPerRecord(@TempDir Path dir) throws IOException {
        int code = cli.run("bench", "attention", "--seq", "16,32", "--warmup", "0", "--repeats", "1",
                "--out", dir.toString());

        assertEquals(ExitCodes.OK, code, cli.out() + cli.err());
        byte[] png = Files.readAllBytes(dir.resolve("bench.png"));
        BufferedImage image = ReportPages.decode(png);
        assertTrue(image.getWidth() >= 640 && image.getWidth() <= 2000, "width " + image.getWidth());
        assertTrue(image.getHeight() >= 300 && image.getHeight() <= 1200, "height " + image.getHeight());
        String html = Files.readString(dir.resolve("bench.html"));
        assertEquals("attn4j bench", ReportPages.title(html));
        assertArrayEquals(png, ReportPages.embeddedPng(html), "the page embeds the same chart");
        JsonNode records = results(dir);
        List<List<String>> rows = ReportPages.rows(html);
        assertEquals(records.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(records.get(i).get("backend").asText(), rows.get(i).get(0));
            assertEquals(records.get(i).get("seq").asText(), rows.get(i).get(2));
            assertEquals(records.get(i).get("status").asText(), rows.get(i).getLast());
        }
        assertEquals(List.of("16", "32"), rows.stream().map(r -> r.get(2)).toList());
        assertFalse(html.contains("src=\"http"), "self-contained");
        assertTrue(cli.out().contains("chart: " + dir.resolve("bench.png")), cli.out());
    }

    @Test
    void withNothingMeasuredThePageSaysSoAndNoStaleChartRemains(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("bench.png"), new byte[]{1, 2, 3});

        cli.run("bench", "attention", "--causal", "--seq", "16", "--repeats", "1", "--out", dir.toString());

        assertFalse(Files.exists(dir.resolve("bench.png")));
        String html = Files.readString(dir.resolve("bench.html"));
        assertFalse(html.contains("<img"));
        assertEquals(List.of("host", "attention", "16", "yes", "no", "F32"),
                ReportPages.rows(html).getFirst().subList(0, 6));
        assertEquals("unsupported: CAUSAL", ReportPages.rows(html).getFirst().getLast());
    }

    @Test
    void backwardIsTimedOnTheSavedOutputsOfOneForward(@TempDir Path dir) throws IOException {
        int code = cli.run("bench", "attention", "--backend", "host", "--backward", "--seq", "8", "--warmup", "1",
                "--repeats", "2", "--out", dir.toString());

        assertEquals(ExitCodes.OK, code, cli.err());
        assertEquals(1, host.attentionForward.get());
        assertEquals(3, host.attentionBackward.get());
        JsonNode r = results(dir).get(0);
        assertTrue(r.get("backward").asBoolean());
        double flops = 2.5 * 4.0 * 1 * 8 * 8 * 8 * 64;
        assertEquals(flops / (r.get("ms_median").asDouble() * 1e-3) / 1e9, r.get("gflops").asDouble(),
                1e-9 * r.get("gflops").asDouble());
    }

    @Test
    void anUndeclaredCapabilityIsReportedAndNothingMeasuredFails(@TempDir Path dir) throws IOException {
        int code = cli.run("bench", "attention", "--causal", "--seq", "8", "--repeats", "1", "--out", dir.toString());

        assertEquals(ExitCodes.FAILED, code);
        assertEquals(0, host.attentionForward.get());
        JsonNode r = results(dir).get(0);
        assertEquals("unsupported: CAUSAL", r.get("status").asText());
        assertTrue(r.get("ms_median").isNull());
        assertTrue(r.get("gflops").isNull());
        assertTrue(cli.err().contains("nothing was measured"), cli.err());
    }

    @Test
    void normHasItsOwnSizesAndNoFlopCount(@TempDir Path dir) throws IOException {
        int code = cli.run("bench", "norm", "--norm", "rms", "--batch", "2", "--seq", "4", "--hidden", "32",
                "--backward", "--warmup", "0", "--repeats", "2", "--out", dir.toString());

        assertEquals(ExitCodes.OK, code, cli.err());
        assertEquals(1, host.normForward.get());
        assertEquals(2, host.normBackward.get());
        JsonNode r = results(dir).get(0);
        assertEquals("rms_norm", r.get("op").asText());
        assertEquals(32, r.get("hidden").asInt());
        assertTrue(r.get("heads").isNull());
        assertTrue(r.get("gflops").isNull());
        assertTrue(r.get("ms_median").isNumber());
    }

    @Test
    void badSizesAndNamesAreBadInputBeforeAnyWork() {
        List<List<String>> bad = List.of(List.of("bench"), List.of("bench", "matmul"),
                List.of("bench", "attention", "--heads", "0"), List.of("bench", "attention", "--kv-heads", "3"),
                List.of("bench", "attention", "--seq", "8,x"), List.of("bench", "attention", "--seq", "-8"),
                List.of("bench", "attention", "--backend", "nope"), List.of("bench", "attention", "--dtype", "I32"),
                List.of("bench", "norm", "--causal"), List.of("bench", "attention", "--repeats", "0"));
        for (List<String> args : bad) {
            assertEquals(ExitCodes.BAD_INPUT, cli.run(args.toArray(String[]::new)), args + ": " + cli.err());
            assertEquals(1, cli.err().lines().count(), args + ": " + cli.err());
        }
        assertEquals(0, host.attentionForward.get() + host.normForward.get());
    }

    @Test
    void aNamedUnavailableBackendFails() {
        assertEquals(ExitCodes.FAILED, cli.run("bench", "attention", "--backend", "gpu-test", "--seq", "8"));
        assertTrue(cli.err().contains("backend 'gpu-test' was requested but is unavailable: no driver"), cli.err());
    }
}
