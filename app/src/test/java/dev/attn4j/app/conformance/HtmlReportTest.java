package dev.attn4j.app.conformance;

import org.junit.jupiter.api.Test;

import java.time.ZonedDateTime;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HtmlReportTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};

    @Test
    void embedsThePngChartAndOneEscapedRowPerSummary() {
        List<OpSummary> summaries = List.of(
                new OpSummary("attention_forward", "cpu", 3, 3, 0, 0, 0, "", 0.0),
                new OpSummary("attention_forward", "opencl", 3, 2, 1, 0, 0, "failed: o <bad> & \"worse\"", 4.5),
                new OpSummary("norm_forward", "cuda", 2, 0, 0, 0, 2, "skipped: no driver", null));

        String html = HtmlReport.render(summaries, ZonedDateTime.parse("2026-11-23T10:00:00Z"));

        Matcher img = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        assertTrue(img.find(), "an embedded chart");
        byte[] png = Base64.getDecoder().decode(img.group(1));
        assertArrayEquals(PNG_MAGIC, java.util.Arrays.copyOf(png, 4));
        assertEquals(3, Pattern.compile("<tr class=").matcher(html).results().count());
        assertTrue(html.contains("<tr class=\"failed\">"));
        assertTrue(html.contains("failed: o &lt;bad&gt; &amp; &quot;worse&quot;"));
        assertFalse(html.contains("<bad>"));
        assertTrue(html.contains("1 case(s) failed."));
        assertFalse(html.contains("src=\"http"), "self-contained");
    }

    @Test
    void everyOpOfTheSuiteIsARowAndMeasuredOnesAreBarsOfAWiderChart() throws Exception {
        List<OpSummary> summaries = new java.util.ArrayList<>();
        for (dev.attn4j.conformance.Op op : dev.attn4j.conformance.Op.values()) {
            summaries.add(new OpSummary(op.id(), "cpu", 4, 4, 0, 0, 0, "", 0.01 * (1 + op.ordinal())));
            summaries.add(new OpSummary(op.id(), "opencl", 4, 0, 0, 4, 0, "unsupported: the " + op.id() + " port", null));
        }
        String html = HtmlReport.render(summaries, ZonedDateTime.parse("2026-12-05T10:00:00Z"));
        assertEquals(2L * dev.attn4j.conformance.Op.values().length,
                Pattern.compile("<tr class=").matcher(html).results().count());
        for (dev.attn4j.conformance.Op op : dev.attn4j.conformance.Op.values()) {
            assertTrue(html.contains(">" + op.id() + "<"), op.id());
        }
        byte[] png = HtmlReport.chart(summaries);
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
        // 30 ops: about 40 pixels each, so labels and bars do not run into each other
        assertTrue(image.getWidth() >= 40 * dev.attn4j.conformance.Op.values().length, "width " + image.getWidth());
    }

    @Test
    void noChartWhenNoCaseRan() {
        String html = HtmlReport.render(List.of(new OpSummary("norm_forward", "cuda", 2, 0, 0, 0, 2, "skipped: x", null)),
                ZonedDateTime.now());

        assertFalse(html.contains("<img"));
        assertTrue(html.contains("All cases that ran passed."));
    }
}
