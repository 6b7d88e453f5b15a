package dev.attn4j.app.console;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;

/**
 * Starts progress displays: a console bar when a person is watching, nothing otherwise (so that logs and
 * redirected output stay clean).
 *
 * <pre>{@code
 * ProgressFactory progress = interactive ? ProgressFactory.console(System.err) : ProgressFactory.none();
 * }</pre>
 */
@FunctionalInterface
public interface ProgressFactory {

    /** Starts a display for {@code total} units of {@code task}. */
    Progress start(String task, long total);

    /** Draws nothing. */
    static ProgressFactory none() {
        return (task, total) -> new Progress() {
            @Override
            public void step() {
            }

            @Override
            public void close() {
            }
        };
    }

    /** A progress bar (me.tongfei:progressbar) drawn on {@code stream}, normally standard error. */
    static ProgressFactory console(PrintStream stream) {
        return (task, total) -> {
            ProgressBar bar = new ProgressBarBuilder()
                    .setTaskName(task)
                    .setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new ConsoleProgressBarConsumer(stream))
                    .setUpdateIntervalMillis(200)
                    .build();
            return new Progress() {
                @Override
                public void step() {
                    bar.step();
                }

                @Override
                public void stepTo(long done) {
                    bar.stepTo(done);
                }

                @Override
                public void message(String text) {
                    bar.setExtraMessage(text);
                }

                @Override
                public void close() {
                    bar.close();
                }
            };
        };
    }
}
