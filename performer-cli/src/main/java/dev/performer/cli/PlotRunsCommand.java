package dev.performer.cli;

import dev.performer.train.TrainingLog;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** {@code performer plot-runs}: one metric of several training runs (their log.csv) in one PNG. */
final class PlotRunsCommand {

    static final String HELP = """
            usage: performer plot-runs --runs DIR[,DIR...] --out FILE.png [--split valid|train]
                     [--metric loss|accuracy|perplexity] [--title TEXT]

            Reads log.csv of each run folder (as written by performer train) and draws the metric of
            the chosen split against the step, one line per run (named by its folder); training
            values are smoothed over 10 steps. Prints the last value of each run.

            example:
              performer plot-runs --runs runs/exact,runs/favor --out valid_loss.png
            """;

    private PlotRunsCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = Args.parse("plot-runs", argv, Set.of("runs", "out", "split", "metric", "title"), Set.of());
        if (!a.given("runs")) throw new UsageException("plot-runs: --runs DIR[,DIR...] is required");
        if (!a.given("out")) throw new UsageException("plot-runs: --out FILE.png is required");
        Path outFile = Path.of(a.str("out", ""));
        if (!outFile.getFileName().toString().endsWith(".png")) throw new UsageException("plot-runs: --out must name a .png file, got " + outFile);
        String split = a.choice("split", "valid", Set.of("valid", "train"));
        String metric = a.choice("metric", "loss", Set.of("loss", "accuracy", "perplexity"));
        List<Plot.Series> series = new ArrayList<>();
        out.printf(Locale.ROOT, "%-40s %8s %12s%n", "run", "step", metric);
        for (String name : a.str("runs", "").split(",")) {
            if (name.isBlank()) continue;
            Path log = Path.of(name.trim()).resolve("log.csv");
            if (!Files.isRegularFile(log)) throw new UsageException("plot-runs: " + log + " not found (is " + name.trim() + " a run folder?)");
            List<double[]> pts = new ArrayList<>();
            List<TrainingLog.Row> rows;
            try {
                rows = TrainingLog.read(log);
            } catch (IOException e) {
                throw new UsageException("plot-runs: " + e.getMessage());
            }
            for (TrainingLog.Row r : rows) {
                if (!r.split().equals(split)) continue;
                pts.add(new double[]{r.step(), switch (metric) {
                    case "loss" -> r.loss();
                    case "accuracy" -> r.accuracy();
                    default -> r.perplexity();
                }});
            }
            if (pts.isEmpty()) throw new UsageException("plot-runs: " + log + " has no " + split + " rows");
            double[] x = new double[pts.size()], y = new double[pts.size()];
            for (int i = 0; i < pts.size(); i++) {
                x[i] = pts.get(i)[0];
                if (split.equals("train")) {          // mean of the last 10 steps
                    double s = 0;
                    int n = 0;
                    for (int j = Math.max(0, i - 9); j <= i; j++) { s += pts.get(j)[1]; n++; }
                    y[i] = s / n;
                } else {
                    y[i] = pts.get(i)[1];
                }
            }
            String label = Path.of(name.trim()).getFileName().toString();
            series.add(new Plot.Series(label, x, y, null));
            out.printf(Locale.ROOT, "%-40s %8.0f %12.4f%n", label, x[x.length - 1], pts.get(pts.size() - 1)[1]);
        }
        String title = a.str("title", (split.equals("valid") ? "Validation " : "Training ") + metric);
        if (outFile.getParent() != null) Files.createDirectories(outFile.getParent());
        Plot.lineChart(outFile, title, "step", metric + (split.equals("train") ? " (mean of 10 steps)" : ""), false, false, false, series,
                "from log.csv of each run (written atomically)");
        out.println("wrote " + outFile);
        return 0;
    }
}
