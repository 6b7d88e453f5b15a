package dev.attn4j.app.report;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Base64;

/**
 * The pieces every self-contained report page shares: one style sheet, the stamp saying when and where it
 * was made, an embedded PNG, and HTML escaping. A page has no external resources, so it can be attached to
 * an issue or a CI run as it is.
 *
 * <pre>{@code
 * StringBuilder html = new StringBuilder();
 * HtmlPage.open(html, "attn4j bench", ZonedDateTime.now());
 * HtmlPage.image(html, "GFLOP/s by sequence length", png);
 * HtmlPage.close(html);
 * }</pre>
 */
public final class HtmlPage {
    private static final String STYLE = """
            body{font-family:sans-serif;margin:2em;color:#222;max-width:80em}
            h1{margin-bottom:.2em}
            table{border-collapse:collapse;margin-top:1em}
            td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
            td.t,th{text-align:left}th{background:#eee}
            tr.failed{background:#fdd}tr.skipped,tr.unsupported{background:#ffd}
            img{max-width:100%;display:block;margin:1em 0}small{color:#666}
            """;

    private HtmlPage() {
    }

    /** Starts the page: head with {@code title} and the style sheet, the heading, and the stamp. */
    public static void open(StringBuilder html, String title, ZonedDateTime when) {
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(escape(title))
                .append("</title>\n<style>\n").append(STYLE).append("</style></head><body>\n<h1>")
                .append(escape(title)).append("</h1>\n");
        html.append("<p><small>")
                .append(escape(when.truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)))
                .append(" &middot; Java ").append(escape(Runtime.version().toString()))
                .append(" &middot; ").append(escape(System.getProperty("os.name") + " " + System.getProperty("os.arch")))
                .append(" &middot; ").append(Runtime.getRuntime().availableProcessors()).append(" hardware threads")
                .append("</small></p>\n");
    }

    /** Embeds {@code png} as a data URI, described by {@code alt}. */
    public static void image(StringBuilder html, String alt, byte[] png) {
        html.append("<img alt=\"").append(escape(alt)).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\">\n");
    }

    /** Ends the page. */
    public static void close(StringBuilder html) {
        html.append("</body></html>\n");
    }

    /** {@code s} with the characters HTML gives a meaning to replaced by entities (text and attributes). */
    public static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
