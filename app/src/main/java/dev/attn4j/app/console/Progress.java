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

    /** {@code done} units of work are done in all (e.g. after a resume); a display that cannot jump ignores it. */
    default void stepTo(long done) {
    }

    /** Short text shown next to the display (e.g. the latest loss); ignored by displays without room for it. */
    default void message(String text) {
    }

    /** Ends the display. */
    @Override
    void close();
}
