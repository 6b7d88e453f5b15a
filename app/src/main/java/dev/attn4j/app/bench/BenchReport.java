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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The chart and page that {@code attn4j bench --out DIR} writes next to {@code bench.json}: a line per backend
 * (and per variant: causal, backward, dtype, gemm form) as {@code bench.png}, and the self-contained
 * {@code bench.html} with that chart embedded, the ratios the run measured, and one table row per record. The x
 * axis is the sequence length for attention and normalisation, the shape for gemm, and the op for the
 * memory-bound ops and the cross-entropy; the y axis GFLOP/s, or GB/s for the memory-bound ops, or the median
 * milliseconds per call where there is neither (normalisation).
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

    /** What the chart plots: GFLOP/s where every measured record has a count, else GB/s, else the median time. */
    enum Metric {
        GFLOPS("GFLOP/s"),
        GBPS("GB/s"),
        MEDIAN_MS("median ms per call");

        final String label;

        Metric(String label) {
            this.label = label;
        }

        static Metric of(List<BenchRecord> measured) {
            if (measured.stream().allMatch(r -> r.gflops() != null)) {
                return GFLOPS;
            }
            return measured.stream().allMatch(r -> r.gbps() != null) ? GBPS : MEDIAN_MS;
        }

        Double of(BenchRecord r) {
            return switch (this) {
                case GFLOPS -> r.gflops();
                case GBPS -> r.gbps();
                case MEDIAN_MS -> r.msMedian();
            };
        }
    }

    /** What the x axis holds. */
    enum Axis {
        SEQUENCE("sequence length (Sq = Sk)"),
        SHAPE("shape M×N×K (C is M×N)"),
        OP("op");

        final String title;

        Axis(String title) {
            this.title = title;
        }

        static Axis of(BenchRecord r) {
            if (r.seq() != null) {
                return SEQUENCE;
            }
            return r.op().equals("gemm") ? SHAPE : OP;
        }

        String category(BenchRecord r) {
            return switch (this) {
                case SEQUENCE -> String.valueOf(r.seq());
                case SHAPE -> r.shape();
                case OP -> r.op();
            };
        }
    }

    /** The line chart as a PNG, or {@code null} when no record was measured (nothing to draw). */
    public static byte[] chart(List<BenchRecord> records) {
        List<BenchRecord> measured = measured(records);
        if (measured.isEmpty()) {
            return null;
        }
        Metric metric = Metric.of(measured);
        Axis axis = Axis.of(measured.getFirst());
        // Sequence lengths in numeric order; shapes and ops in the order they were measured.
        Set<String> categories = axis == Axis.SEQUENCE
                ? new TreeSet<>(java.util.Comparator.comparingInt(Integer::parseInt)) : new LinkedHashSet<>();
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        for (BenchRecord r : measured) {
            String category = axis.category(r);
            categories.add(category);
            series.computeIfAbsent(seriesName(r), k -> new LinkedHashMap<>()).put(category, metric.of(r));
        }
        ChartImage.headless();
        // Categories, not a numeric axis: lengths usually double, and equal spacing keeps each one readable.
        List<String> x = List.copyOf(categories);
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title(metric.label + " by " + axis.name().toLowerCase(Locale.ROOT) + ": "
                        + configuration(measured.getFirst()))
                .xAxisTitle(axis.title).yAxisTitle(metric.label).build();
        CategoryStyler styler = chart.getStyler();
        // Lines join the lengths or shapes of one backend; separate ops are bars.
        styler.setDefaultSeriesRenderStyle(axis == Axis.OP ? CategorySeries.CategorySeriesRenderStyle.Bar
                : CategorySeries.CategorySeriesRenderStyle.Line);
        styler.setLegendPosition(Styler.LegendPosition.OutsideE);
        styler.setChartBackgroundColor(java.awt.Color.WHITE);
        styler.setPlotGridLinesColor(new java.awt.Color(225, 225, 225));
        styler.setYAxisMin(0.0);
        styler.setYAxisDecimalPattern("#,##0.###");
        for (Map.Entry<String, Map<String, Double>> s : series.entrySet()) {
            List<Number> y = new ArrayList<>();
            for (String c : x) {
                y.add(s.getValue().get(c)); // null: this series has no point here
            }
            CategorySeries added = chart.addSeries(s.getKey(), x, y);
            if (axis != Axis.OP) {
                added.setMarker(SeriesMarkers.CIRCLE);
            }
        }
        return ChartImage.png(chart, "bench chart");
    }

    /**
     * The comparisons a run makes within one backend, one line each: every memory-bound op's bandwidth as a
     * fraction of the same backend's {@code copy}, and the fused cross-entropy's time as a multiple of its GEMMs'
     * alone. Empty when the records hold neither pair.
     */
    public static List<String> ratios(List<BenchRecord> records) {
        List<String> lines = new ArrayList<>();
        List<BenchRecord> measured = measured(records);
        for (BenchRecord copy : measured) {
            if (!copy.op().equals("copy") || copy.gbps() == null) {
                continue;
            }
            for (BenchRecord r : measured) {
                if (r != copy && r.backend().equals(copy.backend()) && r.gbps() != null) {
                    lines.add(String.format(Locale.ROOT, "%s %s: %s GB/s, %.2f x copy (%s GB/s)", r.backend(), r.op(),
                            figure(r.gbps()), r.gbps() / copy.gbps(), figure(copy.gbps())));
                }
            }
        }
        for (BenchRecord fused : measured) {
            if (!fused.op().equals("linear_cross_entropy")) {
                continue;
            }
            for (BenchRecord r : measured) {
                if (r.op().equals("cross_entropy_gemms") && r.backend().equals(fused.backend())) {
                    lines.add(String.format(Locale.ROOT, "%s linear_cross_entropy: %s ms, %.2f x its GEMMs alone "
                                    + "(%s ms)", fused.backend(), figure(fused.msMedian()),
                            fused.msMedian() / r.msMedian(), figure(r.msMedian())));
                }
            }
        }
        return lines;
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
                            + "for the device. FLOPs as docs/design.md &sect;8 and &sect;14 count them; GB/s as bytes "
                            + "read and written.</p>\n");
        }
        if (png != null) {
            List<BenchRecord> measured = measured(records);
            HtmlPage.image(html, Metric.of(measured).label + " by " + Axis.of(measured.getFirst()).name()
                    .toLowerCase(Locale.ROOT) + " per backend", png);
        } else {
            html.append("<p><b>Nothing was measured</b>: no chart.</p>\n");
        }
        List<String> ratios = ratios(records);
        if (!ratios.isEmpty()) {
            html.append("<ul>\n");
            for (String line : ratios) {
                html.append("<li>").append(HtmlPage.escape(line)).append("</li>\n");
            }
            html.append("</ul>\n");
        }
        html.append("<table>\n<tr><th>backend</th><th>op</th><th>seq / shape</th><th>causal</th><th>backward</th>"
                + "<th>dtype</th><th>threads</th><th>median ms</th><th>min ms</th><th>max ms</th><th>GFLOP/s</th>"
                + "<th>GB/s</th><th>status</th></tr>\n");
        for (BenchRecord r : records) {
            String kind = r.status().equals("ok") ? "ok" : r.status().startsWith("unsupported") ? "unsupported" : "failed";
            html.append("<tr class=\"").append(kind).append("\"><td class=\"t\">").append(HtmlPage.escape(r.backend()))
                    .append("</td><td class=\"t\">").append(HtmlPage.escape(r.op()))
                    .append("</td><td class=\"t\">").append(HtmlPage.escape(size(r)))
                    .append("</td><td class=\"t\">").append(r.causal() ? "yes" : "no")
                    .append("</td><td class=\"t\">").append(r.backward() ? "yes" : "no")
                    .append("</td><td class=\"t\">").append(HtmlPage.escape(r.dtype()))
                    .append("</td><td>").append(r.threads())
                    .append("</td><td>").append(number(r.msMedian()))
                    .append("</td><td>").append(number(r.msMin()))
                    .append("</td><td>").append(number(r.msMax()))
                    .append("</td><td>").append(number(r.gflops()))
                    .append("</td><td>").append(number(r.gbps()))
                    .append("</td><td class=\"t\">").append(HtmlPage.escape(r.status())).append("</td></tr>\n");
        }
        html.append("</table>\n");
        HtmlPage.close(html);
        return html.toString();
    }

    private static List<BenchRecord> measured(List<BenchRecord> records) {
        return records.stream().filter(r -> r.status().equals("ok") && r.msMedian() != null).toList();
    }

    /** What the table's size column shows: the sequence length, else the shape (and a gemm's form). */
    static String size(BenchRecord r) {
        if (r.seq() != null) {
            return String.valueOf(r.seq());
        }
        return r.form() == null ? r.shape() : r.shape() + " " + r.form();
    }

    /** A line's name: the backend, then what makes its variant differ from a plain F32 forward. */
    static String seriesName(BenchRecord r) {
        StringBuilder name = new StringBuilder(r.backend());
        if (r.seq() != null && !r.op().equals("attention")) {
            name.append(' ').append(r.op());
        }
        if (r.form() != null) {
            name.append(' ').append(r.form());
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
        if (r.op().equals("attention")) {
            return String.format(Locale.ROOT, "attention B=%d H=%d KV=%d D=%d %s", r.batch(), r.heads(),
                    Objects.requireNonNullElse(r.kvHeads(), r.heads()), r.headDim(), r.dtype());
        }
        if (r.seq() != null) {
            return String.format(Locale.ROOT, "%s B=%d C=%d %s", r.op(), r.batch(), r.hidden(), r.dtype());
        }
        return switch (Axis.of(r)) {
            case SHAPE -> "gemm C = op(A)·op(B) " + r.dtype();
            default -> r.op().contains("cross_entropy") ? "linear cross-entropy " + r.shape() + " " + r.dtype()
                    : "memory-bound ops " + r.shape() + (r.hidden() == null ? "" : " rows of " + r.hidden()) + " "
                    + r.dtype();
        };
    }

    private static String number(Double v) {
        return v == null ? "&ndash;" : figure(v);
    }

    /** A time or rate as the table and the page show it: one decimal from 100 up, else three significant digits. */
    static String figure(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.3g", v);
    }
}
