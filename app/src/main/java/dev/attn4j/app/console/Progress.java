package dev.attn4j.app.console;

/**
 * Progress of one task, e.g. the cases of a backend. Closing it ends the display.
 *
 * <pre>{@code
 * try (Progress p = progress.start("cpu", cases.size())) {
 *     for (var c : cases) { run(c); p.step(); }
 * }
 * }</pre>
 */
public interface Progress extends AutoCloseable {

    /** One unit of work is done. */
    void step();

    /** Ends the display. */
    @Override
    void close();
}
