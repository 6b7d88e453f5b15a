package dev.attn4j.app.conformance;

import dev.attn4j.app.report.ChartImage;
import dev.attn4j.app.report.HtmlPage;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The self-contained {@code conformance.html}: a chart of each op's worst error ratio per backend against the
 * tolerance (the pass rule's bound is ratio 1; XChart, rendered to a PNG embedded in the page) and the
 * summary table. No external resources, so the file can be attached to an issue or a CI run as it is.
 *
 * <pre>{@code
 * String html = HtmlReport.render(OpSummary.of(results), ZonedDateTime.now());
 * }</pre>
 */
public final class HtmlReport {
    /** Ratios below this are drawn at this value: the log axis cannot show an exact match (ratio 0). */
    static final double FLOOR = 1e-6;

    private HtmlReport() {
    }

    /** The page for {@code summaries}, stamped with {@code when} and this JVM and machine. */
    public static String render(List<OpSummary> summaries, ZonedDateTime when) {
        StringBuilder html = new StringBuilder(64 * 1024);
        HtmlPage.open(html, "attn4j conformance", when);
        long failed = summaries.stream().mapToLong(OpSummary::failed).sum();
        html.append("<p><b>").append(failed == 0 ? "All cases that ran passed." : failed + " case(s) failed.")
                .append("</b> Error ratio = max|golden &minus; test| / tolerance (docs/design.md &sect;7); a case passes at ratio &le; 1.</p>\n");
        byte[] png = chart(summaries);
        if (png != null) {
            HtmlPage.image(html, "worst error ratio per op and backend", png);
        }
        html.append("<table>\n<tr><th>op</th><th>backend</th><th>cases</th><th>passed</th><th>failed</th>"
                + "<th>unsupported</th><th>skipped</th><th>worst ratio</th><th>reason</th></tr>\n");
        for (OpSummary s : summaries) {
            String kind = s.failed() > 0 ? "failed" : s.skipped() > 0 ? "skipped" : s.unsupported() > 0 ? "unsupported" : "ok";
            html.append("<tr class=\"").append(kind).append("\"><td class=\"t\">").append(HtmlPage.escape(s.op()))
                    .append("</td><td class=\"t\">").append(HtmlPage.escape(s.backend()))
                    .append("</td><td>").append(s.cases()).append("</td><td>").append(s.passed())
                    .append("</td><td>").append(s.failed()).append("</td><td>").append(s.unsupported())
                    .append("</td><td>").append(s.skipped()).append("</td><td>")
                    .append(s.worstErrorRatio() == null ? "&ndash;" : String.format(Locale.ROOT, "%.3g", s.worstErrorRatio()))
                    .append("</td><td class=\"t\">").append(HtmlPage.escape(s.reason())).append("</td></tr>\n");
        }
        html.append("</table>\n");
        HtmlPage.close(html);
        return html.toString();
    }

    /**
     * A bar per backend for each op (worst ratio, log scale) and the tolerance line at 1; {@code null} when no
     * case produced a finite ratio.
     */
    static byte[] chart(List<OpSummary> summaries) {
        Set<String> ops = new LinkedHashSet<>();
        Set<String> backends = new LinkedHashSet<>();
        Set<String> measured = new LinkedHashSet<>();
        for (OpSummary s : summaries) {
            ops.add(s.op()); // in the suite's order, even where the first backend has no ratio for it
            if (s.worstErrorRatio() != null && Double.isFinite(s.worstErrorRatio())) {
                measured.add(s.op());
                backends.add(s.backend());
            }
        }
        ops.retainAll(measured);
        if (ops.isEmpty()) {
            return null;
        }
        ChartImage.headless();
        List<String> x = List.copyOf(ops);
        // About 40 pixels per op once the model ops are in (30 of them), so that bars and labels stay apart.
        int width = Math.max(960, 200 + 40 * x.size() * Math.max(1, backends.size()));
        CategoryChart chart = new CategoryChartBuilder().width(width).height(x.size() > 12 ? 520 : 440)
                .title("Worst error ratio per op and backend (red line: tolerance)")
                .xAxisTitle("op").yAxisTitle("max|golden - test| / tolerance").build();
        chart.getStyler().setYAxisLogarithmic(true);
        // Op names such as attention_backward collide side by side once there are six or more ops; with the
        // model ops' dozens, they are turned further.
        chart.getStyler().setXAxisLabelRotation(x.size() > 12 ? 45 : x.size() > 4 ? 20 : 0);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        // A log axis draws a grid line per minor tick; kept faint so the bars and the tolerance stand out.
        chart.getStyler().setPlotGridLinesColor(new java.awt.Color(235, 235, 235));
        double top = 1;
        for (String backend : backends) {
            List<Number> y = new ArrayList<>();
            for (String op : x) {
                Double ratio = summaries.stream().filter(s -> s.op().equals(op) && s.backend().equals(backend))
                        .map(OpSummary::worstErrorRatio).filter(Objects::nonNull).filter(Double::isFinite)
                        .findFirst().orElse(null);
                y.add(ratio == null ? null : Math.max(FLOOR, ratio));
                if (ratio != null) {
                    top = Math.max(top, ratio);
                }
            }
            chart.addSeries(backend, x, y);
        }
        // The tolerance as a horizontal rule, not a series: a series would take a slot in every bar group.
        chart.addAnnotation(new AnnotationLine(1.0, false, false));
        chart.getStyler().setAnnotationLineColor(java.awt.Color.RED);
        chart.getStyler().setAnnotationLineStroke(new java.awt.BasicStroke(2f));
        chart.getStyler().setYAxisMin(FLOOR);
        chart.getStyler().setYAxisMax(top * 10);
        return ChartImage.png(chart, "conformance chart");
    }
}
