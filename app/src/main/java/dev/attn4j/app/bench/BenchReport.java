package dev.attn4j.app.bench;

import dev.attn4j.app.report.ChartImage;
import dev.attn4j.app.report.HtmlPage;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The chart and page that {@code attn4j bench --out DIR} writes next to {@code bench.json}: a line per
 * backend (and per variant: causal, backward, dtype) of GFLOP/s against sequence length, as {@code bench.png},
 * and the self-contained {@code bench.html} with that chart embedded and one table row per record.
 * Normalisation has no agreed FLOP count, so its chart shows the median milliseconds per call instead.
 *
 * <pre>{@code
 * byte[] png = BenchReport.chart(records);            // null when nothing was measured
 * String html = BenchReport.render(records, png, ZonedDateTime.now());
 * }</pre>
 */
public final class BenchReport {
    static final int WIDTH = 960;
    static final int HEIGHT = 480;

    private BenchReport() {
    }

    /** What the chart plots: GFLOP/s where every measured record has a count, else the median time. */
    enum Metric {
        GFLOPS("GFLOP/s"),
        MEDIAN_MS("median ms per call");

        final String label;

        Metric(String label) {
            this.label = label;
        }

        static Metric of(List<BenchRecord> measured) {
            return measured.stream().allMatch(r -> r.gflops() != null) ? GFLOPS : MEDIAN_MS;
        }

        Double of(BenchRecord r) {
            return this == GFLOPS ? r.gflops() : r.msMedian();
        }
    }

    /** The line chart as a PNG, or {@code null} when no record was measured (nothing to draw). */
    public static byte[] chart(List<BenchRecord> records) {
        List<BenchRecord> measured = measured(records);
        if (measured.isEmpty()) {
            return null;
        }
        Metric metric = Metric.of(measured);
        TreeSet<Integer> seqs = new TreeSet<>();
        Map<String, Map<Integer, Double>> series = new LinkedHashMap<>();
        for (BenchRecord r : measured) {
            seqs.add(r.seq());
            series.computeIfAbsent(seriesName(r), k -> new LinkedHashMap<>()).put(r.seq(), metric.of(r));
        }
        ChartImage.headless();
        // Categories, not a numeric axis: lengths usually double, and equal spacing keeps each one readable.
        List<String> x = seqs.stream().map(String::valueOf).toList();
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title(metric.label + " by sequence length: " + configuration(measured.getFirst()))
                .xAxisTitle("sequence length (Sq = Sk)").yAxisTitle(metric.label).build();
        CategoryStyler styler = chart.getStyler();
        styler.setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        styler.setLegendPosition(Styler.LegendPosition.OutsideE);
        styler.setChartBackgroundColor(java.awt.Color.WHITE);
        styler.setPlotGridLinesColor(new java.awt.Color(225, 225, 225));
        styler.setYAxisMin(0.0);
        styler.setYAxisDecimalPattern("#,##0.###");
        for (Map.Entry<String, Map<Integer, Double>> s : series.entrySet()) {
            List<Number> y = new ArrayList<>();
            for (int seq : seqs) {
                y.add(s.getValue().get(seq)); // null: this series has no point at this length
            }
            chart.addSeries(s.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        return ChartImage.png(chart, "bench chart");
    }

    /** The page: the configuration, the chart {@code png} (none when {@code null}) and a row per record. */
    public static String render(List<BenchRecord> records, byte[] png, ZonedDateTime when) {
        StringBuilder html = new StringBuilder(64 * 1024);
        HtmlPage.open(html, "attn4j bench", when);
        if (!records.isEmpty()) {
            BenchRecord first = records.getFirst();
            html.append("<p>").append(HtmlPage.escape(configuration(first))).append(", ").append(first.warmup())
                    .append(" warm-up and ").append(first.repeats())
                    .append(" timed runs per row; wall-clock time of one call, including a small download that waits "
                            + "for the device. FLOPs as docs/design.md &sect;8 counts them.</p>\n");
        }
        if (png != null) {
            HtmlPage.image(html, Metric.of(measured(records)).label + " by sequence length per backend", png);
        } else {
            html.append("<p><b>Nothing was measured</b>: no chart.</p>\n");
        }
        html.append("<table>\n<tr><th>backend</th><th>op</th><th>seq</th><th>causal</th><th>backward</th>"
                + "<th>dtype</th><th>threads</th><th>median ms</th><th>min ms</th><th>max ms</th><th>GFLOP/s</th>"
                + "<th>status</th></tr>\n");
        for (BenchRecord r : records) {
            String kind = r.status().equals("ok") ? "ok" : r.status().startsWith("unsupported") ? "unsupported" : "failed";
            html.append("<tr class=\"").append(kind).append("\"><td class=\"t\">").append(HtmlPage.escape(r.backend()))
                    .append("</td><td class=\"t\">").append(HtmlPage.escape(r.op()))
                    .append("</td><td>").append(r.seq())
                    .append("</td><td class=\"t\">").append(r.causal() ? "yes" : "no")
                    .append("</td><td class=\"t\">").append(r.backward() ? "yes" : "no")
                    .append("</td><td class=\"t\">").append(HtmlPage.escape(r.dtype()))
                    .append("</td><td>").append(r.threads())
                    .append("</td><td>").append(number(r.msMedian()))
                    .append("</td><td>").append(number(r.msMin()))
                    .append("</td><td>").append(number(r.msMax()))
                    .append("</td><td>").append(number(r.gflops()))
                    .append("</td><td class=\"t\">").append(HtmlPage.escape(r.status())).append("</td></tr>\n");
        }
        html.append("</table>\n");
        HtmlPage.close(html);
        return html.toString();
    }

    private static List<BenchRecord> measured(List<BenchRecord> records) {
        return records.stream().filter(r -> r.status().equals("ok") && r.msMedian() != null).toList();
    }

    /** A line's name: the backend, then what makes its variant differ from a plain F32 forward. */
    static String seriesName(BenchRecord r) {
        StringBuilder name = new StringBuilder(r.backend());
        if (!r.op().equals("attention")) {
            name.append(' ').append(r.op());
        }
        if (r.causal()) {
            name.append(" causal");
        }
        if (r.backward()) {
            name.append(" backward");
        }
        if (!r.dtype().equals("F32")) {
            name.append(' ').append(r.dtype());
        }
        return name.toString();
    }

    /** The sizes every row shares, e.g. {@code attention B=1 H=8 KV=8 D=64 F32}. */
    static String configuration(BenchRecord r) {
        return r.op().equals("attention")
                ? String.format(Locale.ROOT, "attention B=%d H=%d KV=%d D=%d %s", r.batch(), r.heads(),
                        Objects.requireNonNullElse(r.kvHeads(), r.heads()), r.headDim(), r.dtype())
                : String.format(Locale.ROOT, "%s B=%d C=%d %s", r.op(), r.batch(), r.hidden(), r.dtype());
    }

    private static String number(Double v) {
        return v == null ? "&ndash;" : figure(v);
    }

    /** A time or rate as the table and the page show it: one decimal from 100 up, else three significant digits. */
    static String figure(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.3g", v);
    }
}
