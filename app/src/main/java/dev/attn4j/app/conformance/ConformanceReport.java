package dev.attn4j.app.conformance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.conformance.CaseResult;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.List;

/**
 * Writes the files of {@code attn4j conformance --report DIR}:
 * <ul>
 *   <li>{@code conformance.json}: an array with one record per op × backend, the fields of
 *       {@link OpSummary} in snake case ({@code op, backend, cases, passed, failed, unsupported, skipped,
 *       reason, worst_error_ratio}), the ratio {@code null} when no case gave a finite one;</li>
 *   <li>{@code conformance-cases.json}: every case result ({@code op, backend, case_id, outcome,
 *       error_ratio, detail}), to find which case failed and why;</li>
 *   <li>{@code conformance.html}: a self-contained page with a chart of the worst error ratio per op and
 *       backend against the tolerance, and the summary table ({@link HtmlReport}).</li>
 * </ul>
 *
 * <pre>{@code
 * new ConformanceReport(Path.of("reports")).write(OpSummary.of(results), results);
 * }</pre>
 */
public final class ConformanceReport {
    /** Name of the summary file. */
    public static final String SUMMARY_FILE = "conformance.json";
    /** Name of the page with the chart and table. */
    public static final String HTML_FILE = "conformance.html";
    /** Name of the per-case file. */
    public static final String CASES_FILE = "conformance-cases.json";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private final Path directory;

    /** A report written into {@code directory} (created when missing). */
    public ConformanceReport(Path directory) {
        this.directory = directory;
    }

    /**
     * Writes the three files and returns the summary file's path.
     *
     * @throws UncheckedIOException naming the file that could not be written
     */
    public Path write(List<OpSummary> summaries, List<CaseResult> results) {
        Path summary = directory.resolve(SUMMARY_FILE);
        Path cases = directory.resolve(CASES_FILE);
        try {
            Files.createDirectories(directory);
            JSON.writeValue(summary.toFile(), summaries.stream().map(SummaryRecord::of).toList());
            JSON.writeValue(cases.toFile(), results.stream().map(CaseRecord::of).toList());
            Files.writeString(directory.resolve(HTML_FILE), HtmlReport.render(summaries, ZonedDateTime.now()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report into " + directory + ": " + e.getMessage(), e);
        }
        return summary;
    }

    /** A summary with its worst ratio as {@code null} when not finite (a NaN output; JSON has no infinity). */
    record SummaryRecord(String op, String backend, int cases, int passed, int failed, int unsupported, int skipped,
                         String reason, Double worstErrorRatio) {
        static SummaryRecord of(OpSummary s) {
            Double worst = s.worstErrorRatio() != null && Double.isFinite(s.worstErrorRatio()) ? s.worstErrorRatio() : null;
            return new SummaryRecord(s.op(), s.backend(), s.cases(), s.passed(), s.failed(), s.unsupported(),
                    s.skipped(), s.reason(), worst);
        }
    }

    /** A case result with its ratio as {@code null} when it is not a finite number (JSON has no NaN). */
    record CaseRecord(String op, String backend, String caseId, String outcome, Double errorRatio, String detail) {
        static CaseRecord of(CaseResult r) {
            return new CaseRecord(r.op().id(), r.backend(), r.caseId(), r.outcome().name(),
                    Double.isFinite(r.errorRatio()) ? r.errorRatio() : null, r.detail());
        }
    }
}
