package dev.attn4j.app.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Renders an XChart chart to PNG bytes off-screen, also where there is no display.
 *
 * <pre>{@code
 * byte[] png = ChartImage.png(chart, "bench chart");
 * }</pre>
 */
public final class ChartImage {
    private ChartImage() {
    }

    /**
     * Switches AWT to headless unless the user chose otherwise; called before a chart is built, since
     * building one already touches AWT fonts.
     */
    public static void headless() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** {@code chart} as a PNG; {@code what} names it in the error if encoding fails. */
    public static byte[] png(Chart<?, ?> chart, String what) {
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render the " + what + ": " + e.getMessage(), e);
        }
    }
}
