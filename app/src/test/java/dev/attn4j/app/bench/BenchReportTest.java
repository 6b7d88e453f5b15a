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
        return new BenchRecord(backend, "attention", 1, 8, 8, seq, 64, null, "F32", causal, backward, 2, 3, 10,
                ms, ms, ms, gflops, status);
    }

    private static BenchRecord norm(int seq, double ms) {
        return new BenchRecord("cpu", "rms_norm", 2, null, null, seq, null, 1024, "F32", false, false, 2, 3, 10,
                ms, ms, ms, null, "ok");
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
        assertEquals(List.of("cpu", "attention", "32", "no", "no", "F32", "2", "250.0", "250.0", "250.0", "600.0", "ok"),
                rows.get(1));
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
