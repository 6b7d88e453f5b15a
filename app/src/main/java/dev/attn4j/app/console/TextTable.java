package dev.attn4j.app.console;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table with padded columns: text left-aligned, numbers (and {@link #right} cells) right-aligned.
 *
 * <pre>{@code
 * TextTable t = new TextTable("NAME", "PRIORITY");
 * t.row("cpu", 100);
 * t.print(out);
 * }</pre>
 */
public final class TextTable {
    private final List<String> headers;
    private final List<Object[]> rows = new ArrayList<>();

    /** A table with these column headers. */
    public TextTable(String... headers) {
        this.headers = List.of(headers);
    }

    /** A cell printed right-aligned, as numbers are: for numbers already formatted as text. */
    public static Object right(String text) {
        return new Right(text);
    }

    private record Right(String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    /** Adds a row; {@code null} cells print as empty. */
    public TextTable row(Object... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException("row: expected " + headers.size() + " cells, got " + cells.length);
        }
        rows.add(cells.clone());
        return this;
    }

    /** Prints the header and rows, columns separated by two spaces, trailing blanks trimmed. */
    public void print(PrintWriter out) {
        int[] width = new int[headers.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = headers.get(c).length();
            for (Object[] row : rows) {
                width[c] = Math.max(width[c], text(row[c]).length());
            }
        }
        out.println(line(headers.toArray(), width));
        for (Object[] row : rows) {
            out.println(line(row, width));
        }
    }

    private static String line(Object[] cells, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            if (c > 0) {
                sb.append("  ");
            }
            String t = text(cells[c]);
            String pad = " ".repeat(width[c] - t.length());
            sb.append(cells[c] instanceof Number || cells[c] instanceof Right ? pad + t : t + pad);
        }
        return sb.toString().stripTrailing();
    }

    private static String text(Object cell) {
        return cell == null ? "" : cell.toString();
    }
}
