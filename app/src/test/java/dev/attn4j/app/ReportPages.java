package dev.attn4j.app;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/** Reads back the pieces of a generated report page that tests check: title, embedded PNG, table rows. */
public final class ReportPages {
    private static final Pattern DATA_URI = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");
    private static final Pattern ROW = Pattern.compile("<tr class=\"[a-z]+\">(.*?)</tr>");
    private static final Pattern CELL = Pattern.compile("<td[^>]*>(.*?)</td>");

    private ReportPages() {
    }

    /** The text of the page's {@code <title>}. */
    public static String title(String html) {
        Matcher m = Pattern.compile("<title>(.*?)</title>").matcher(html);
        if (!m.find()) {
            fail("no <title> in the page");
        }
        return m.group(1);
    }

    /** The bytes of the one PNG embedded as a data URI. */
    public static byte[] embeddedPng(String html) {
        List<String> images = DATA_URI.matcher(html).results().map(r -> r.group(1)).toList();
        assertEquals(1, images.size(), "embedded PNGs");
        return Base64.getDecoder().decode(images.getFirst());
    }

    /** {@code png} decoded by ImageIO; fails when it is not a readable image. */
    public static BufferedImage decode(byte[] png) {
        try {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(image, "ImageIO could not decode the PNG");
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Each data row of the page's table (header excluded) as its cells' HTML. */
    public static List<List<String>> rows(String html) {
        return ROW.matcher(html).results()
                .map(r -> CELL.matcher(r.group(1)).results().map(c -> c.group(1)).toList())
                .toList();
    }
}
