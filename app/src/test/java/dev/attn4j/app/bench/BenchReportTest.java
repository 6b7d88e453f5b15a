package dev.attn4j.app.bench;

import dev.attn4j.app.ReportPages;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.time.ZonedDateTime;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchReportTest {
    private static final ZonedDateTime WHEN = ZonedDateTime.parse("2026-11-23T10:00:00Z");

    private static BenchRecord attention(String backend, int seq, boolean causal, boolean backward, Double ms,
                                         Double gflops, String status) {
        return new BenchRecord(backend, "attention", "B=1 S=" + seq + " H=8 KV=8 D=64", 1, 8, 8, seq, 64, null, null,
                "F32", causal, backward, 2, 3, 10, ms, ms, ms, gflops, null, status);
    }

    private static BenchRecord norm(int seq, double ms) {
        return new BenchRecord("cpu", "rms_norm", "rows=" + 2 * seq + " C=1024", 2, null, null, seq, null, 1024, null,
                "F32", false, false, 2, 3, 10, ms, ms, ms, null, null, "ok");
    }

    private static BenchRecord gemm(String backend, String shape, String form, Double ms, Double gflops) {
        return new BenchRecord(backend, "gemm", shape, null, null, null, null, null, null, form, "F32", false, false, 2,
                3, 10, ms, ms, ms, gflops, null, ms == null ? "unsupported: linear" : "ok");
    }

    private static BenchRecord memory(String backend, String op, double ms, double gbps) {
        return new BenchRecord(backend, op, "n=1048576", null, null, null, null, null, 1024, null, "F32", false, false,
                2, 3, 10, ms, ms, ms, null, gbps, "ok");
    }

    private static BenchRecord loss(String op, double ms) {
        return new BenchRecord("cpu", op, "N=4096 V=20000 d=512", null, null, null, null, null, null, null, "F32", false,
                false, 2, 3, 10, ms, ms, ms, 1e3 / ms, null, "ok");
    }

    @Test
    void gemmLinesAreNamedByFormAndPlottedOverShapes() {
        BenchRecord nt = gemm("cpu", "4096x2048x512", "NT", 100.0, 85.9);
        assertEquals("cpu NT", BenchReport.seriesName(nt));
        assertEquals(BenchReport.Axis.SHAPE, BenchReport.Axis.of(nt));
        assertEquals("4096x2048x512", BenchReport.Axis.SHAPE.category(nt));
        assertEquals("4096x2048x512 NT", BenchReport.size(nt));
        assertEquals("gemm C = op(A)·op(B) F32", BenchReport.configuration(nt));
        List<BenchRecord> records = List.of(nt, gemm("cpu", "4096x2048x512", "NN", 90.0, 95.4),
                gemm("cpu", "2048x2048x2048", "NN", 95.0, 180.8), gemm("host", "2048x2048x2048", "NN", null, null));
        assertEquals(BenchReport.Metric.GFLOPS, BenchReport.Metric.of(List.of(nt)));
        BufferedImage image = ReportPages.decode(BenchReport.chart(records));
        assertEquals(BenchReport.WIDTH, image.getWidth());
        assertNotBlank(image);
        List<List<String>> rows = ReportPages.rows(BenchReport.render(records, null, WHEN));
        assertEquals("2048x2048x2048 NN", rows.get(2).get(2));
        assertEquals("unsupported: linear", rows.get(3).getLast());
    }

    @Test
    void memoryBoundOpsPlotGigabytesPerSecondAndCompareWithTheSameBackendsCopy() {
        List<BenchRecord> records = List.of(memory("cpu", "copy", 1.0, 20.0), memory("cpu", "add", 1.0, 15.0),
                memory("gpu", "add", 1.0, 500.0));
        assertEquals(BenchReport.Metric.GBPS, BenchReport.Metric.of(records));
        assertEquals(BenchReport.Axis.OP, BenchReport.Axis.of(records.getFirst()));
        assertEquals(List.of("cpu add: 15.0 GB/s, 0.75 x copy (20.0 GB/s)"), BenchReport.ratios(records));
        assertEquals("memory-bound ops n=1048576 rows of 1024 F32", BenchReport.configuration(records.getFirst()));
        assertNotBlank(ReportPages.decode(BenchReport.chart(records)));
        String html = BenchReport.render(records, BenchReport.chart(records), WHEN);
        assertTrue(html.contains("<li>cpu add: 15.0 GB/s, 0.75 x copy (20.0 GB/s)</li>"), html);
        assertEquals("15.0", ReportPages.rows(html).get(1).get(11));
    }

    @Test
    void theFusedCrossEntropyIsComparedWithItsGemmsAlone() {
        List<BenchRecord> records = List.of(loss("linear_cross_entropy", 1100.0), loss("cross_entropy_gemms", 1000.0));
        assertEquals(List.of("cpu linear_cross_entropy: 1100.0 ms, 1.10 x its GEMMs alone (1000.0 ms)"),
                BenchReport.ratios(records));
        assertEquals("linear cross-entropy N=4096 V=20000 d=512 F32", BenchReport.configuration(records.getFirst()));
    }

    @Test
    void seriesAreNamedByBackendAndWhatMakesTheVariantDiffer() {
        assertEquals("cpu", BenchReport.seriesName(attention("cpu", 16, false, false, 1.0, 1.0, "ok")));
        assertEquals("cuda causal backward", BenchReport.seriesName(attention("cuda", 16, true, true, 1.0, 1.0, "ok")));
        assertEquals("cpu rms_norm", BenchReport.seriesName(norm(16, 1.0)));
        assertEquals("attention B=1 H=8 KV=8 D=64 F32",
                BenchReport.configuration(attention("cpu", 16, false, false, 1.0, 1.0, "ok")));
        assertEquals("rms_norm B=2 C=1024 F32", BenchReport.configuration(norm(16, 1.0)));
    }

    @Test
    void plotsGflopsForAttentionAndMillisecondsForNormalisation() {
        List<BenchRecord> attention = List.of(attention("cpu", 16, false, false, 2.0, 3.0, "ok"),
                attention("opencl", 16, false, false, null, null, "unsupported: CAUSAL"));
        assertEquals(BenchReport.Metric.GFLOPS, BenchReport.Metric.of(List.of(attention.getFirst())));
        assertEquals(3.0, BenchReport.Metric.GFLOPS.of(attention.getFirst()));
        assertEquals(BenchReport.Metric.MEDIAN_MS, BenchReport.Metric.of(List.of(norm(16, 0.5))));
        assertEquals(0.5, BenchReport.Metric.MEDIAN_MS.of(norm(16, 0.5)));
    }

    @Test
    void theChartIsAPngOfTheChosenSizeWithLinesWhereBackendsHaveDifferentLengths() {
        byte[] png = BenchReport.chart(List.of(
                attention("cpu", 16, false, false, 2.0, 3.0, "ok"),
                attention("cpu", 32, false, false, 4.0, 6.0, "ok"),
                attention("cpu", 32, true, false, 3.0, 4.0, "ok"),
                attention("opencl", 32, false, false, 1.0, 24.0, "ok"),
                attention("cuda", 16, false, false, null, null, "failed: boom")));

        BufferedImage image = ReportPages.decode(png);
        assertEquals(BenchReport.WIDTH, image.getWidth());
        assertEquals(BenchReport.HEIGHT, image.getHeight());
        assertNotBlank(image);
    }

    @Test
    void nothingMeasuredMeansNoChart() {
        assertNull(BenchReport.chart(List.of(attention("cpu", 16, true, false, null, null, "unsupported: CAUSAL"))));
        assertNull(BenchReport.chart(List.of()));
    }

    @Test
    void thePageEmbedsTheChartAndHasOneEscapedRowPerRecord() {
        List<BenchRecord> records = List.of(
                attention("cpu", 16, false, false, 2.0, 3.0, "ok"),
                attention("cpu", 32, false, false, 250.0, 600.0, "ok"),
                attention("gpu", 16, false, false, null, null, "failed: <oom> & \"more\""));
        byte[] png = BenchReport.chart(records);

        String html = BenchReport.render(records, png, WHEN);

        assertEquals("attn4j bench", ReportPages.title(html));
        assertArrayEquals(png, ReportPages.embeddedPng(html));
        List<List<String>> rows = ReportPages.rows(html);
        assertEquals(3, rows.size());
        assertEquals(List.of("cpu", "attention", "32", "no", "no", "F32", "2", "250.0", "250.0", "250.0", "600.0",
                "&ndash;", "ok"), rows.get(1));
        assertEquals("failed: &lt;oom&gt; &amp; &quot;more&quot;", rows.get(2).getLast());
        assertEquals("&ndash;", rows.get(2).get(10));
        assertTrue(html.contains("<tr class=\"failed\">"));
        assertFalse(html.contains("<oom>"));
        assertTrue(html.contains("attention B=1 H=8 KV=8 D=64 F32, 3 warm-up and 10 timed runs"), html);
        assertFalse(html.contains("src=\"http"), "self-contained");
    }

    @Test
    void aPageWithoutAChartSaysNothingWasMeasured() {
        String html = BenchReport.render(List.of(attention("cpu", 16, true, false, null, null, "unsupported: CAUSAL")),
                null, WHEN);

        assertFalse(html.contains("<img"));
        assertTrue(html.contains("Nothing was measured"));
        assertEquals(1, ReportPages.rows(html).size());
        assertTrue(html.contains("<tr class=\"unsupported\">"));
    }

    /** A chart with axes, lines and a legend has many colours; a failed render is one flat colour. */
    private static void assertNotBlank(BufferedImage image) {
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 4) {
            for (int x = 0; x < image.getWidth(); x += 4) {
                colours.add(image.getRGB(x, y));
            }
        }
        assertTrue(colours.size() > 3, "colours: " + colours.size());
    }
}
