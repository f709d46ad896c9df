package dev.performer.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Line charts as PNG (headless AWT): log or linear axes, one line per series, optional error bars. */
final class Plot {

    /** One line; yErr (nullable) holds ± error bar half-heights. NaN y values are gaps. */
    record Series(String name, double[] x, double[] y, double[] yErr) {}

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0x7f7f7f), new Color(0xbcbd22)};

    private Plot() {}

    static void lineChart(Path file, String title, String xLabel, String yLabel, boolean logX, boolean xPow2, boolean logY,
                          List<Series> series, String footnote) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int w = 960, h = 640, left = 95, right = 30, top = 60, bottom = 95;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double xmin = Double.POSITIVE_INFINITY, xmax = Double.NEGATIVE_INFINITY, ymin = Double.POSITIVE_INFINITY, ymax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (!valid(s.y()[i], logY) || !valid(s.x()[i], logX)) continue;
                double e = s.yErr() == null ? 0 : s.yErr()[i];
                xmin = Math.min(xmin, s.x()[i]); xmax = Math.max(xmax, s.x()[i]);
                double lo = s.y()[i] - e;
                ymin = Math.min(ymin, logY && !(lo > 0) ? s.y()[i] : lo);
                ymax = Math.max(ymax, s.y()[i] + e);
            }
        }
        if (!(xmin <= xmax)) { xmin = 1; xmax = 10; ymin = 1; ymax = 10; }
        if (xmin == xmax) { xmin = logX ? xmin / 2 : xmin - 1; xmax = logX ? xmax * 2 : xmax + 1; }
        if (ymin == ymax) { ymin = logY ? ymin / 2 : ymin - 1; ymax = logY ? ymax * 2 : ymax + 1; }
        double fx0 = f(xmin, logX), fx1 = f(xmax, logX), fy0 = f(ymin, logY), fy1 = f(ymax, logY);
        double padX = 0.04 * (fx1 - fx0), padY = 0.06 * (fy1 - fy0);
        fx0 -= padX; fx1 += padX; fy0 -= padY; fy1 += padY;
        int pw = w - left - right, ph = h - top - bottom;
        final double ax0 = fx0, ax1 = fx1, ay0 = fy0, ay1 = fy1;
        java.util.function.DoubleUnaryOperator px = x -> left + (f(x, logX) - ax0) / (ax1 - ax0) * pw;
        java.util.function.DoubleUnaryOperator py = y -> top + ph - (f(y, logY) - ay0) / (ay1 - ay0) * ph;

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
        g.setColor(Color.BLACK);
        centered(g, title, w / 2, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        // grid and ticks
        List<double[]> xt = ticks(xmin, xmax, logX, xPow2), yt = ticks(ymin, ymax, logY, false);
        double xStep = xt.size() > 1 ? xt.get(1)[0] - xt.get(0)[0] : 0, yStep = yt.size() > 1 ? yt.get(1)[0] - yt.get(0)[0] : 0;
        for (double[] t : xt) {
            int x = (int) Math.round(px.applyAsDouble(t[0]));
            if (x < left || x > left + pw) continue;
            g.setColor(new Color(0xe6e6e6)); g.drawLine(x, top, x, top + ph);
            g.setColor(Color.BLACK); g.drawLine(x, top + ph, x, top + ph + 5);
            centered(g, label(t[0], logX, xPow2, xStep), x, top + ph + 20);
        }
        for (double[] t : yt) {
            int y = (int) Math.round(py.applyAsDouble(t[0]));
            if (y < top || y > top + ph) continue;
            g.setColor(new Color(0xe6e6e6)); g.drawLine(left, y, left + pw, y);
            g.setColor(Color.BLACK); g.drawLine(left - 5, y, left, y);
            String s = label(t[0], logY, false, yStep);
            g.drawString(s, left - 8 - g.getFontMetrics().stringWidth(s), y + 5);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        centered(g, xLabel, left + pw / 2, top + ph + 42);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        centered(gy, yLabel, -(top + ph / 2), 22);
        gy.dispose();
        // series
        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            g.setColor(COLORS[si % COLORS.length]);
            g.setStroke(new BasicStroke(2.2f));
            int prevX = -1, prevY = -1;
            for (int i = 0; i < s.x().length; i++) {
                if (!valid(s.y()[i], logY) || !valid(s.x()[i], logX)) { prevX = -1; continue; }
                int x = (int) Math.round(px.applyAsDouble(s.x()[i])), y = (int) Math.round(py.applyAsDouble(s.y()[i]));
                if (prevX >= 0) g.drawLine(prevX, prevY, x, y);
                g.fillOval(x - 4, y - 4, 8, 8);
                if (s.yErr() != null && s.yErr()[i] > 0) {
                    double lo = s.y()[i] - s.yErr()[i], hi = s.y()[i] + s.yErr()[i];
                    int yl = (int) Math.round(py.applyAsDouble(logY && lo <= 0 ? s.y()[i] / 10 : lo));
                    int yh = (int) Math.round(py.applyAsDouble(hi));
                    g.setStroke(new BasicStroke(1.2f));
                    g.drawLine(x, Math.min(yl, top + ph), x, Math.max(yh, top));
                    g.drawLine(x - 4, yl, x + 4, yl);
                    g.drawLine(x - 4, yh, x + 4, yh);
                    g.setStroke(new BasicStroke(2.2f));
                }
                prevX = x; prevY = y;
            }
        }
        // legend
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        FontMetrics fm = g.getFontMetrics();
        int lw = 0;
        for (Series s : series) lw = Math.max(lw, fm.stringWidth(s.name()));
        int lh = 18 * series.size() + 10, lwid = lw + 46;
        int lx = left + 12, ly = top + 12, fewest = Integer.MAX_VALUE;
        for (int corner = 0; corner < 4; corner++) {  // the corner whose box covers the fewest points
            int cx = corner % 2 == 0 ? left + 12 : left + pw - 12 - lwid, cy = corner < 2 ? top + 12 : top + ph - 12 - lh, hits = 0;
            for (Series sr : series)
                for (int i = 0; i < sr.x().length; i++) {
                    if (!valid(sr.y()[i], logY) || !valid(sr.x()[i], logX)) continue;
                    double x = px.applyAsDouble(sr.x()[i]), y = py.applyAsDouble(sr.y()[i]);
                    if (x >= cx - 6 && x <= cx + lwid + 6 && y >= cy - 6 && y <= cy + lh + 6) hits++;
                }
            if (hits < fewest) { fewest = hits; lx = cx; ly = cy; }
        }
        g.setColor(new Color(255, 255, 255, 230));
        g.fillRect(lx, ly, lw + 46, lh);
        g.setColor(Color.GRAY);
        g.drawRect(lx, ly, lw + 46, lh);
        for (int si = 0; si < series.size(); si++) {
            g.setColor(COLORS[si % COLORS.length]);
            g.setStroke(new BasicStroke(2.2f));
            int yy = ly + 16 + 18 * si;
            g.drawLine(lx + 8, yy - 4, lx + 30, yy - 4);
            g.setColor(Color.BLACK);
            g.drawString(series.get(si).name(), lx + 38, yy);
        }
        if (footnote != null) {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.setColor(Color.DARK_GRAY);
            int y = h - 28;
            for (String line : wrap(footnote, 150)) { g.drawString(line, 12, y); y += 13; }
        }
        g.dispose();
        Path tmp = dev.performer.io.AtomicFiles.temporaryFor(file);
        ImageIO.write(img, "png", tmp.toFile());
        dev.performer.io.AtomicFiles.publish(tmp, file);
    }

    private static boolean valid(double v, boolean log) { return Double.isFinite(v) && (!log || v > 0); }

    private static double f(double v, boolean log) { return log ? Math.log10(v) : v; }

    private static void centered(Graphics2D g, String s, int x, int y) {
        g.drawString(s, x - g.getFontMetrics().stringWidth(s) / 2, y);
    }

    private static List<double[]> ticks(double lo, double hi, boolean log, boolean pow2) {
        List<double[]> t = new ArrayList<>();
        if (log && pow2) {
            for (int e = (int) Math.floor(Math.log(lo) / Math.log(2)); e <= Math.ceil(Math.log(hi) / Math.log(2)); e++) t.add(new double[]{Math.pow(2, e)});
        } else if (log) {
            int e0 = (int) Math.floor(Math.log10(lo)), e1 = (int) Math.ceil(Math.log10(hi));
            boolean fine = e1 - e0 <= 2;
            for (int e = e0; e <= e1; e++) {
                t.add(new double[]{Math.pow(10, e)});
                if (fine) { t.add(new double[]{2 * Math.pow(10, e)}); t.add(new double[]{5 * Math.pow(10, e)}); }
            }
        } else {
            // the smallest of 1, 2, 5 × 10^k that gives at most 8 intervals
            double span = hi - lo, base = Math.pow(10, Math.floor(Math.log10(span / 8))), step = base;
            for (double f : new double[]{1, 2, 5, 10}) { step = f * base; if (span / step <= 8) break; }
            for (long i = (long) Math.ceil(lo / step); i * step <= hi + 1e-9 * span; i++) t.add(new double[]{i * step});
        }
        return t;
    }

    /** A tick label; on a linear axis with as many decimals as the tick step needs. */
    private static String label(double v, boolean log, boolean pow2, double step) {
        if (pow2) return "2^" + Math.round(Math.log(v) / Math.log(2));
        if (log) {
            double e = Math.log10(v);
            if (Math.abs(e - Math.round(e)) < 1e-9 && (Math.abs(e) >= 4)) return "1e" + Math.round(e);
        }
        if (!log && step > 0 && step < 1 && Math.abs(v) < 1e6) {
            int decimals = (int) Math.ceil(-Math.log10(step) - 1e-9);
            return String.format(Locale.ROOT, "%." + decimals + "f", v);
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e6) return String.valueOf((long) v);
        return String.format(Locale.ROOT, "%.3g", v);
    }

    private static List<String> wrap(String s, int width) {
        List<String> out = new ArrayList<>();
        for (String para : s.split("\n")) {
            StringBuilder line = new StringBuilder();
            for (String word : para.split(" ")) {
                if (line.length() + word.length() + 1 > width && line.length() > 0) { out.add(line.toString()); line.setLength(0); }
                if (line.length() > 0) line.append(' ');
                line.append(word);
            }
            out.add(line.toString());
        }
        return out;
    }
}
