package dev.performer.cli;

import dev.performer.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Line charts as PNG, drawn by XChart (headless): log or linear axes, one line with markers per series,
 * optional ± error bars, the legend outside the plot area and a wrapped footnote under the chart.
 */
final class Plot {

    /** One line; yErr (nullable) holds ± error bar half-heights. NaN y values are gaps. */
    record Series(String name, double[] x, double[] y, double[] yErr) {}

    /** The PNG's size in pixels (the footnote, if any, takes its lines from the bottom of it). */
    static final int WIDTH = 1000, HEIGHT = 620;

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
        new Color(0x7f7f7f), new Color(0xbcbd22)};
    /** Series with more points than this are drawn as lines without markers. */
    private static final int MAX_MARKERS = 40;
    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 17);
    private static final Font FOOT_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final int FOOT_LINE = 15;

    private Plot() {}

    /**
     * Writes a line chart to file (atomically). logX / logY: logarithmic axes; xPow2 (with logX): the x axis in
     * powers of two, ticks labelled with the integer values. Points that a log axis cannot show (≤ 0) and
     * non-finite points are gaps; error bars that reach below zero on a log axis are cut at the data's bottom.
     */
    static void lineChart(Path file, String title, String xLabel, String yLabel, boolean logX, boolean xPow2,
                          boolean logY, List<Series> series, String footnote) throws IOException {
        System.setProperty("java.awt.headless", "true");
        boolean pow2 = logX && xPow2;
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.setFont(FOOT_FONT);
            List<String> foot = footnote == null || footnote.isBlank() ? List.of()
                    : wrap(footnote, g.getFontMetrics(), WIDTH - 24);
            int chartHeight = HEIGHT - (foot.isEmpty() ? 0 : FOOT_LINE * foot.size() + 8);
            XYChart chart = chart(title, xLabel, yLabel, logX, pow2, logY, series, chartHeight);
            // a long title gets a smaller font rather than being cut at the edges; XChart centres it over
            // the plot area, which the legend beside it narrows to about 70% of the image
            float size = 17;
            while (size > 9 && g.getFontMetrics(TITLE_FONT.deriveFont(size)).stringWidth(title) > WIDTH * 0.7)
                size -= 0.5f;
            chart.getStyler().setChartTitleFont(TITLE_FONT.deriveFont(size));
            chart.paint(g, WIDTH, chartHeight);
            g.setFont(FOOT_FONT);
            g.setColor(Color.DARK_GRAY);
            int y = chartHeight + FOOT_LINE - 3;
            for (String line : foot) {
                g.drawString(line, 12, y);
                y += FOOT_LINE;
            }
        } finally {
            g.dispose();
        }
        Path tmp = AtomicFiles.temporaryFor(file);
        try {
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer");
            AtomicFiles.publish(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static XYChart chart(String title, String xLabel, String yLabel, boolean logX, boolean pow2, boolean logY,
                                 List<Series> series, int height) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(height).title(title).xAxisTitle(xLabel)
                .yAxisTitle(yLabel).theme(Styler.ChartTheme.XChart).build();
        XYStyler st = chart.getStyler();
        st.setLocale(Locale.ROOT);
        st.setAntiAlias(true);
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotBorderVisible(true);
        st.setPlotBorderColor(Color.GRAY);
        st.setPlotGridLinesColor(new Color(0xe0e0e0));
        st.setChartTitleBoxVisible(false);
        st.setChartTitleFont(TITLE_FONT);
        st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setLegendPosition(Styler.LegendPosition.OutsideE);  // beside the plot: it never covers a point
        st.setLegendBorderColor(Color.LIGHT_GRAY);
        st.setLegendSeriesLineLength(24);
        st.setMarkerSize(7);
        st.setChartPadding(12);
        st.setSeriesColors(COLORS);
        Marker[] markers = new Marker[COLORS.length];
        Arrays.fill(markers, SeriesMarkers.CIRCLE);
        st.setSeriesMarkers(markers);
        st.setXAxisLogarithmic(logX && !pow2);
        st.setYAxisLogarithmic(logY);
        // labels at 2..9 × 10^k only when the data spans little more than a decade (else they crowd)
        st.setXAxisLogarithmicDecadeOnly(decades(series, true) > 1.3);
        st.setYAxisLogarithmicDecadeOnly(decades(series, false) > 1.3);
        // (XChart's custom tick formatter is for linear axes only: on a log axis its tick search does not end)
        if (pow2) chart.setCustomXAxisTickLabelsFormatter(Plot::pow2Label);

        // the bottom of the data (for error bars that a log axis cannot show to their end)
        double yBottom = Double.POSITIVE_INFINITY;
        int shown = 0;
        for (Series s : series)
            for (int i = 0; i < s.x().length; i++) {
                if (!valid(s.x()[i], logX) || !valid(s.y()[i], logY)) continue;
                shown++;
                double lo = s.yErr() == null ? s.y()[i] : s.y()[i] - s.yErr()[i];
                yBottom = Math.min(yBottom, valid(lo, logY) ? lo : s.y()[i]);
            }
        if (shown == 0) {  // nothing to show: an empty frame with the legend
            st.setXAxisMin(1.0).setXAxisMax(10.0).setYAxisMin(1.0).setYAxisMax(10.0);
        }
        List<String> names = new ArrayList<>();
        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            Color color = COLORS[si % COLORS.length];
            int n = Math.min(s.x().length, s.y().length);
            double[] x = new double[n], y = new double[n];
            double fallback = firstValid(s.x(), logX, pow2);
            for (int i = 0; i < n; i++) {  // a gap is a NaN y; its x must still be one the axis can show
                boolean okX = valid(s.x()[i], logX);
                x[i] = okX ? xValue(s.x()[i], pow2) : i > 0 ? x[i - 1] : fallback;
                y[i] = okX && valid(s.y()[i], logY) ? s.y()[i] : Double.NaN;
            }
            if (n == 0 || shown == 0) { x = new double[]{1}; y = new double[]{Double.NaN}; }
            XYSeries line = chart.addSeries(unique(s.name(), names), x, y);
            line.setLineColor(color).setLineWidth(2.2f);
            line.setMarkerColor(color);
            line.setMarker(n <= MAX_MARKERS ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);  // many points: a line
            if (s.yErr() == null) continue;
            for (int i = 0; i < n && i < s.yErr().length; i++) {
                double e = s.yErr()[i];
                if (!(e > 0) || !Double.isFinite(e) || Double.isNaN(y[i])) continue;
                double lo = s.y()[i] - e, hi = s.y()[i] + e;
                if (logY && !(lo > 0)) lo = Math.min(yBottom, s.y()[i]);
                XYSeries bar = chart.addSeries(unique(s.name() + " ± " + i, names), new double[]{x[i], x[i]},
                        new double[]{lo, hi});
                bar.setShowInLegend(false);
                bar.setMarker(SeriesMarkers.NONE);
                bar.setLineColor(color).setLineWidth(1.2f);
                bar.setLineStyle(new BasicStroke(1.2f));
            }
        }
        // XChart puts the ticks of a linear axis on the data's own x values when these are equally spaced
        // (steps 1, 2, ..., 300 get ticks at 1, 14, 27, ...); one hidden point off that grid restores
        // round tick values
        if (!logX && !pow2 && shown > 1) {
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
            for (Series s : series)
                for (double v : s.x()) if (Double.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
            if (hi > lo) {
                XYSeries off = chart.addSeries(unique("\u200b", names), new double[]{lo + 1e-3 * (hi - lo)},
                        new double[]{Double.NaN});
                off.setShowInLegend(false);
                off.setMarker(SeriesMarkers.NONE);
            }
        }
        return chart;
    }

    /** log10(max / min) over the positive finite x (or y) values. */
    private static double decades(List<Series> series, boolean x) {
        double lo = Double.POSITIVE_INFINITY, hi = 0;
        for (Series s : series)
            for (double v : x ? s.x() : s.y())
                if (valid(v, true)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        return hi > 0 ? Math.log10(hi / lo) : 0;
    }

    private static boolean valid(double v, boolean log) { return Double.isFinite(v) && (!log || v > 0); }

    private static double xValue(double x, boolean pow2) { return pow2 ? Math.log(x) / Math.log(2) : x; }

    /** Where a gap's x goes when the x itself is unusable: any usable x of the series (it is not drawn). */
    private static double firstValid(double[] xs, boolean log, boolean pow2) {
        for (double x : xs) if (valid(x, log)) return xValue(x, pow2);
        return log && !pow2 ? 1 : 0;
    }

    /** XChart keys series by name: repeated names get invisible suffixes. */
    private static String unique(String name, List<String> names) {
        String n = name == null ? "" : name;
        while (names.contains(n)) n += "\u200b";
        names.add(n);
        return n;
    }

    /** A power-of-two axis holds log2 of the values: integer exponents are labelled with the value itself. */
    private static String pow2Label(double e) {
        if (Math.abs(e - Math.rint(e)) > 1e-6) return "";
        double v = Math.pow(2, Math.rint(e));
        return v >= 1 && v < 1e7 ? String.valueOf(Math.round(v)) : "2^" + Math.round(e);
    }

    private static List<String> wrap(String s, FontMetrics fm, int width) {
        List<String> out = new ArrayList<>();
        for (String para : s.split("\n")) {
            StringBuilder line = new StringBuilder();
            for (String word : para.split(" ")) {
                String next = line.length() == 0 ? word : line + " " + word;
                if (fm.stringWidth(next) > width && line.length() > 0) {
                    out.add(line.toString());
                    line.setLength(0);
                    line.append(word);
                } else {
                    line.setLength(0);
                    line.append(next);
                }
            }
            out.add(line.toString());
        }
        return out;
    }
}
