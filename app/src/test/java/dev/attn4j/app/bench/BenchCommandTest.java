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

    /** The real cpu backend, which declares the linear, loss and memory-bound ports the host test backend lacks. */
    private final CliHarness cpu = new CliHarness(List.of(CliHarness.cpu(), host), SuiteFactory.standard());

    @Test
    void gemmTimesEveryShapeAndFormThroughTheLinearPort(@TempDir Path dir) throws IOException {
        int code = cpu.run("bench", "gemm", "--backend", "cpu", "--shape", "64x48x32,7x5x3", "--form", "NN,TN",
                "--warmup", "1", "--repeats", "2", "--threads", "2", "--out", dir.toString());

        assertEquals(ExitCodes.OK, code, cpu.out() + cpu.err());
        JsonNode records = results(dir);
        assertEquals(4, records.size());
        List<String> seen = new java.util.ArrayList<>();
        for (JsonNode r : records) {
            assertEquals("gemm", r.get("op").asText());
            assertEquals("ok", r.get("status").asText());
            assertTrue(r.get("seq").isNull() && r.get("gbps").isNull(), r.toString());
            String[] mnk = r.get("shape").asText().split("x");
            double flops = 2.0 * Integer.parseInt(mnk[0]) * Integer.parseInt(mnk[1]) * Integer.parseInt(mnk[2]);
            double gflops = flops / (r.get("ms_median").asDouble() * 1e-3) / 1e9;
            assertEquals(gflops, r.get("gflops").asDouble(), 1e-9 * gflops);
            seen.add(r.get("shape").asText() + " " + r.get("form").asText());
        }
        assertEquals(List.of("64x48x32 NN", "64x48x32 TN", "7x5x3 NN", "7x5x3 TN"), seen);
        assertEquals(seen, ReportPages.rows(Files.readString(dir.resolve("bench.html"))).stream()
                .map(row -> row.get(2)).toList());
        assertTrue(Files.exists(dir.resolve("bench.png")));
        assertTrue(cpu.out().lines().anyMatch(l -> l.matches("cpu\\s+gemm\\s+7x5x3 TN\\s+no\\s+no\\s+2\\s+.*\\sok")),
                cpu.out());
    }

    @Test
    void aBackendWithoutTheLinearPortIsUnsupportedForGemm(@TempDir Path dir) throws IOException {
        int code = cli.run("bench", "gemm", "--shape", "8x8x8", "--repeats", "1", "--out", dir.toString());

        assertEquals(ExitCodes.FAILED, code);
        assertEquals("unsupported: the linear port", results(dir).get(0).get("status").asText());
    }

    @Test
    void opsWarmUpLongerByDefaultThanTheOtherOps(@TempDir Path dir) throws IOException {
        Path ops = dir.resolve("ops");
        Path gemm = dir.resolve("gemm");
        assertEquals(ExitCodes.OK, cpu.run("bench", "ops", "--backend", "cpu", "--size", "64", "--hidden", "8",
                "--vocab", "10", "--ops", "copy", "--repeats", "1", "--out", ops.toString()), cpu.err());
        assertEquals(ExitCodes.OK, cpu.run("bench", "gemm", "--backend", "cpu", "--shape", "4x4x4", "--repeats", "1",
                "--out", gemm.toString()), cpu.err());
        assertEquals(BenchCommand.OPS_WARMUP, results(ops).get(0).get("warmup").asInt());
        assertEquals(3, results(gemm).get(0).get("warmup").asInt());
        assertEquals(ExitCodes.OK, cpu.run("bench", "ops", "--backend", "cpu", "--size", "64", "--hidden", "8",
                "--vocab", "10", "--ops", "copy", "--repeats", "1", "--warmup", "2", "--out", ops.toString()), cpu.err());
        assertEquals(2, results(ops).get(0).get("warmup").asInt());
    }

    @Test
    void opsReportBandwidthAgainstTheSameBackendsCopy(@TempDir Path dir) throws IOException {
        int code = cpu.run("bench", "ops", "--backend", "cpu", "--size", "4096", "--hidden", "64", "--vocab", "100",
                "--warmup", "1", "--repeats", "2", "--out", dir.toString());

        assertEquals(ExitCodes.OK, code, cpu.out() + cpu.err());
        JsonNode records = results(dir);
        List<String> ops = new java.util.ArrayList<>();
        // Floats moved per output element: copy, add, axpy, scale, gelu, silu, gelu_backward, swiglu (split),
        // swiglu_concatenated, embedding.
        int[] floats = {2, 3, 3, 2, 2, 2, 3, 3, 3, 2};
        for (int i = 0; i < records.size(); i++) {
            JsonNode r = records.get(i);
            ops.add(r.get("op").asText());
            assertEquals("n=4096", r.get("shape").asText());
            assertEquals(64, r.get("hidden").asInt());
            assertTrue(r.get("gflops").isNull(), r.toString());
            double bytes = 4.0 * 4096 * floats[i] + (r.get("op").asText().equals("embedding") ? 4.0 * 4096 / 64 : 0);
            double gbps = bytes / (r.get("ms_median").asDouble() * 1e-3) / 1e9;
            assertEquals(gbps, r.get("gbps").asDouble(), 1e-9 * gbps, r.toString());
        }
        assertEquals(List.of("copy", "add", "axpy", "scale", "gelu", "silu", "gelu_backward", "swiglu",
                "swiglu_concatenated", "embedding"), ops);
        assertTrue(cpu.out().lines().anyMatch(l -> l.matches("cpu swiglu: .* GB/s, [0-9.]+ x copy \\(.* GB/s\\)")),
                cpu.out());
        assertTrue(Files.readString(dir.resolve("bench.html")).contains("x copy"));
    }

    @Test
    void lossComparesTheFusedCrossEntropyWithItsGemmsAlone(@TempDir Path dir) throws IOException {
        int code = cpu.run("bench", "loss", "--backend", "cpu", "--tokens", "64", "--vocab", "300", "--dim", "32",
                "--warmup", "1", "--repeats", "2", "--out", dir.toString());

        assertEquals(ExitCodes.OK, code, cpu.out() + cpu.err());
        JsonNode records = results(dir);
        assertEquals(List.of("linear_cross_entropy", "cross_entropy_gemms"),
                List.of(records.get(0).get("op").asText(), records.get(1).get("op").asText()));
        for (JsonNode r : records) {
            assertEquals("N=64 V=300 d=32", r.get("shape").asText());
            double gflops = 6.0 * 64 * 300 * 32 / (r.get("ms_median").asDouble() * 1e-3) / 1e9;
            assertEquals(gflops, r.get("gflops").asDouble(), 1e-9 * gflops);
        }
        assertTrue(cpu.out().lines().anyMatch(l -> l.matches("cpu linear_cross_entropy: .* ms, [0-9.]+ x its GEMMs "
                + "alone \\(.* ms\\)")), cpu.out());
    }

    @Test
    void badGemmOpsAndLossSizesAreBadInputBeforeAnyWork() {
        List<List<String>> bad = List.of(List.of("bench", "gemm", "--shape", "3x4"),
                List.of("bench", "gemm", "--shape", "0x4x4"), List.of("bench", "gemm", "--shape", "axbxc"),
                List.of("bench", "gemm", "--form", "NX"), List.of("bench", "gemm", "--seq", "8"),
                List.of("bench", "attention", "--shape", "8x8x8"), List.of("bench", "ops", "--size", "100"),
                List.of("bench", "ops", "--ops", "add,foo"), List.of("bench", "ops", "--tokens", "8"),
                List.of("bench", "loss", "--tokens", "0"), List.of("bench", "loss", "--hidden", "8"),
                List.of("bench", "gemm", "--shape", "100000x100000x1"));
        for (List<String> args : bad) {
            assertEquals(ExitCodes.BAD_INPUT, cpu.run(args.toArray(String[]::new)), args + ": " + cpu.err());
            assertEquals(1, cpu.err().lines().count(), args + ": " + cpu.err());
        }
    }

    @Test
    void aNamedUnavailableBackendFails() {
        assertEquals(ExitCodes.FAILED, cli.run("bench", "attention", "--backend", "gpu-test", "--seq", "8"));
        assertTrue(cli.err().contains("backend 'gpu-test' was requested but is unavailable: no driver"), cli.err());
    }
}
