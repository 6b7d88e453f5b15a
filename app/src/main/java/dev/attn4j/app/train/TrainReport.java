package dev.attn4j.app.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.app.report.ChartImage;
import dev.attn4j.app.report.HtmlPage;
import dev.attn4j.domain.training.EvalRecord;
import dev.attn4j.domain.training.LogRecord;
import dev.attn4j.domain.training.Trainer;
import dev.attn4j.domain.training.TrainingConfig;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code attn4j train} writes into its output directory at the end and after every evaluation:
 * {@value #JSON_FILE} (the configuration, every log and evaluation, the outcome) and the self-contained
 * {@value #HTML_FILE} (the training and evaluation loss curves as an embedded PNG, and the tables). Both are
 * replaced atomically, so a reader never sees half a file.
 *
 * <pre>{@code
 * TrainReport.write(out, facts, trainer.logs(), trainer.evals(), ZonedDateTime.now());
 * }</pre>
 */
final class TrainReport {
    static final String JSON_FILE = "train.json";
    static final String HTML_FILE = "train.html";
    static final int WIDTH = 960;
    static final int HEIGHT = 480;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private TrainReport() {
    }

    /**
     * What the report says about the run besides its logs.
     *
     * @param model     the model's configuration (preset name or file) and its JSON
     * @param modelJson the configuration as x-transformers JSON
     * @param backend   the backend's name
     * @param data      data description: file, examples, rows, pad ratio...
     * @param config    the training configuration
     * @param status    {@code running}, {@code completed} or {@code stopped}
     * @param step      steps done
     */
    record Facts(String model, String modelJson, String backend, Map<String, Object> data, TrainingConfig config,
                 String status, long step) {
    }

    static void write(Path dir, Facts facts, List<LogRecord> logs, List<EvalRecord> evals, ZonedDateTime when) {
        try {
            Files.createDirectories(dir);
            replace(dir.resolve(JSON_FILE), JSON.writeValueAsBytes(json(facts, logs, evals)));
            byte[] png = chart(logs, evals);
            replace(dir.resolve(HTML_FILE), html(facts, logs, evals, png, when).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the training report into " + dir + ": " + e.getMessage(), e);
        }
    }

    static ObjectNode json(Facts facts, List<LogRecord> logs, List<EvalRecord> evals) {
        ObjectNode root = JSON.createObjectNode();
        root.put("status", facts.status());
        root.put("step", facts.step());
        root.put("steps", facts.config().steps());
        root.put("model", facts.model());
        try {
            root.set("model_config", JSON.readTree(facts.modelJson()));
        } catch (IOException e) {
            root.put("model_config", facts.modelJson());
        }
        root.put("backend", facts.backend());
        root.set("data", JSON.valueToTree(facts.data()));
        root.set("training_config", Trainer.configJson(facts.config()));
        ArrayNode l = root.putArray("logs");
        for (LogRecord r : logs) {
            ObjectNode n = l.addObject();
            n.put("step", r.step());
            n.put("epoch", r.epoch());
            n.put("loss", r.loss());
            n.put("lr", r.lr());
            n.put("grad_norm", r.gradNorm());
            n.put("trained_tokens", r.trainedTokens());
            n.put("tokens", r.tokens());
            n.put("tokens_per_second", r.tokensPerSecond());
        }
        ArrayNode e = root.putArray("evals");
        for (EvalRecord r : evals) {
            ObjectNode n = e.addObject();
            n.put("step", r.step());
            n.put("loss", r.loss());
            n.put("perplexity", r.perplexity());
            n.put("trained_tokens", r.trainedTokens());
            n.put("seconds", r.seconds());
        }
        if (!logs.isEmpty()) {
            root.put("final_loss", logs.getLast().loss());
        }
        if (!evals.isEmpty()) {
            root.put("final_eval_loss", evals.getLast().loss());
        }
        return root;
    }

    /** The loss curves as a PNG, or {@code null} before the first log. */
    static byte[] chart(List<LogRecord> logs, List<EvalRecord> evals) {
        if (logs.isEmpty() && evals.isEmpty()) {
            return null;
        }
        ChartImage.headless();
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("loss by optimizer step")
                .xAxisTitle("step").yAxisTitle("cross-entropy per trained token").build();
        XYStyler styler = chart.getStyler();
        styler.setLegendPosition(Styler.LegendPosition.InsideNE);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(225, 225, 225));
        List<LogRecord> finite = logs.stream().filter(r -> Double.isFinite(r.loss())).toList();
        if (!finite.isEmpty()) {
            XYSeries s = chart.addSeries("train", finite.stream().map(r -> (double) r.step()).toList(),
                    finite.stream().map(LogRecord::loss).toList());
            s.setMarker(finite.size() > 60 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
        }
        if (!evals.isEmpty()) {
            XYSeries s = chart.addSeries("eval", evals.stream().map(r -> (double) r.step()).toList(),
                    evals.stream().map(EvalRecord::loss).toList());
            s.setMarker(SeriesMarkers.DIAMOND);
        }
        if (chart.getSeriesMap().isEmpty()) {
            return null;
        }
        return ChartImage.png(chart, "training chart");
    }

    static String html(Facts facts, List<LogRecord> logs, List<EvalRecord> evals, byte[] png, ZonedDateTime when) {
        StringBuilder html = new StringBuilder(64 * 1024);
        HtmlPage.open(html, "attn4j train", when);
        TrainingConfig c = facts.config();
        html.append("<p>").append(HtmlPage.escape(String.format(Locale.ROOT,
                "%s, step %d of %d on %s: model %s; %d micro-batch(es) per step, lr %s (%s, %d warm-up steps), "
                        + "weight decay %s, clip %s, NEFTune alpha %s (%s), seed %d.",
                facts.status(), facts.step(), c.steps(), facts.backend(), facts.model(), c.gradientAccumulation(),
                number(c.lr()), c.schedule().name().toLowerCase(Locale.ROOT), c.warmupSteps(),
                number(c.adamW().weightDecay()), c.adamW().clipping() ? number(c.adamW().maxGradNorm()) : "off",
                number(c.neftuneAlpha()), c.neftuneScaling().name().toLowerCase(Locale.ROOT), c.seed())))
                .append("</p>\n<p>").append(HtmlPage.escape("data: " + facts.data())).append("</p>\n");
        if (png != null) {
            HtmlPage.image(html, "training and evaluation loss by step", png);
        } else {
            html.append("<p><b>Nothing logged yet</b>: no chart.</p>\n");
        }
        if (!evals.isEmpty()) {
            html.append("<h2>evaluation</h2>\n<table>\n<tr><th>step</th><th>loss</th><th>perplexity</th>"
                    + "<th>trained tokens</th><th>seconds</th></tr>\n");
            for (EvalRecord r : evals) {
                html.append("<tr><td>").append(r.step()).append("</td><td>").append(number(r.loss()))
                        .append("</td><td>").append(number(r.perplexity())).append("</td><td>").append(r.trainedTokens())
                        .append("</td><td>").append(number(r.seconds())).append("</td></tr>\n");
            }
            html.append("</table>\n");
        }
        html.append("<h2>training</h2>\n<table>\n<tr><th>step</th><th>epoch</th><th>loss</th><th>lr</th>"
                + "<th>grad norm</th><th>tokens</th><th>tokens/s</th></tr>\n");
        for (LogRecord r : logs) {
            html.append("<tr><td>").append(r.step()).append("</td><td>").append(number(r.epoch()))
                    .append("</td><td>").append(number(r.loss())).append("</td><td>").append(number(r.lr()))
                    .append("</td><td>").append(number(r.gradNorm())).append("</td><td>").append(r.tokens())
                    .append("</td><td>").append(number(r.tokensPerSecond())).append("</td></tr>\n");
        }
        html.append("</table>\n");
        HtmlPage.close(html);
        return html.toString();
    }

    static String number(double v) {
        if (!Double.isFinite(v)) {
            return Double.isNaN(v) ? "&ndash;" : Double.toString(v);
        }
        if (v != 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) {
            return String.format(Locale.ROOT, "%.3e", v);
        }
        return String.format(Locale.ROOT, "%.4g", v);
    }

    private static void replace(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
