package dev.performer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotTest {

    @TempDir
    Path tmp;

    @Test
    void twoSeriesOnLogAxesMakeADecodablePngWithTheSeriesColours() throws IOException {
        double[] l = {64, 128, 256, 512, 1024, 2048};
        double[] quadratic = new double[l.length], linear = new double[l.length], err = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            quadratic[i] = 1e-6 * l[i] * l[i];
            linear[i] = 2e-4 * l[i];
            err[i] = 0.3 * linear[i];
        }
        err[0] = 2 * linear[0];  // reaches below zero: cut at the bottom of the log axis, not an error
        linear[3] = Double.NaN;  // a gap
        Path png = tmp.resolve("sub").resolve("log.png");
        Plot.lineChart(png, "time over L", "sequence length L", "seconds", true, true, true,
                List.of(new Plot.Series("exact", l, quadratic, null), new Plot.Series("favor+", l, linear, err)),
                "a footnote long enough to be wrapped onto a second line: " + "lorem ipsum dolor sit amet ".repeat(8));
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "PNG decodes");
        assertEquals(Plot.WIDTH, img.getWidth());
        assertEquals(Plot.HEIGHT, img.getHeight());
        int background = img.getRGB(2, 2) & 0xffffff;
        assertEquals(0xffffff, background, "white background");
        // the first two series colours (blue 0x1f77b4, red 0xd62728), allowing for anti-aliasing
        assertTrue(count(img, 0x1f77b4) > 200, "the first series is drawn");
        assertTrue(count(img, 0xd62728) > 200, "the second series is drawn");
        try (Stream<Path> files = Files.list(png.getParent())) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    @Test
    void linearAxesAndEmptySeriesStillWriteAChart() throws IOException {
        Path png = tmp.resolve("lin.png");
        Plot.lineChart(png, "loss", "step", "nats", false, false, false,
                List.of(new Plot.Series("train", new double[]{0, 1, 2, 3}, new double[]{2.5, 2.1, 1.9, 1.85}, null),
                        new Plot.Series("valid", new double[0], new double[0], null)), null);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(Plot.WIDTH, img.getWidth());
        assertTrue(count(img, 0x1f77b4) > 100);
        Path empty = tmp.resolve("empty.png");
        Plot.lineChart(empty, "nothing", "x", "y", true, false, true,
                List.of(new Plot.Series("none", new double[]{1, 2}, new double[]{Double.NaN, -1}, null)), "foot");
        assertEquals(Plot.HEIGHT, ImageIO.read(empty.toFile()).getHeight());
    }

    /** Pixels within a small distance of the colour rgb. */
    private static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++)
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                int dr = ((p >> 16) & 0xff) - ((rgb >> 16) & 0xff), dg = ((p >> 8) & 0xff) - ((rgb >> 8) & 0xff);
                int db = (p & 0xff) - (rgb & 0xff);
                if (Math.abs(dr) + Math.abs(dg) + Math.abs(db) < 40) n++;
            }
        return n;
    }
}
