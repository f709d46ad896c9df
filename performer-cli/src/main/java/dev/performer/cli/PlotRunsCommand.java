package dev.performer.cli;

import dev.performer.train.TrainingLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code performer plot-runs}: one metric of several training runs (their log.csv) in one PNG. */
@Command(name = "plot-runs", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "one metric (validation loss, ...) of several training runs in one PNG",
        description = "Reads log.csv of each run folder (as written by performer train) and draws the metric of the "
                + "chosen split against the step, one line per run (named by its folder); training values are smoothed "
                + "over 10 steps. Prints the last value of each run.",
        footerHeading = "%nexample:%n",
        footer = "  performer plot-runs --runs runs/exact,runs/favor --out valid_loss.png")
final class PlotRunsCommand extends Options.Command {

    static final class Splits extends Options.Choice { Splits() { super("valid", "train"); } }

    static final class Metrics extends Options.Choice { Metrics() { super("loss", "accuracy", "perplexity", "bits"); } }

    @Option(names = "--runs", paramLabel = "DIR[,DIR...]", required = true, description = "run folders (with log.csv)")
    String runs;

    @Option(names = "--out", paramLabel = "FILE.png", required = true, description = "the plot")
    Path outFile;

    @Option(names = "--split", paramLabel = "SPLIT", defaultValue = "valid", converter = Splits.class,
            completionCandidates = Splits.class, description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--metric", paramLabel = "METRIC", defaultValue = "loss", converter = Metrics.class,
            completionCandidates = Metrics.class,
            description = "${COMPLETION-CANDIDATES} (bits: the loss in bits per target, bits per dimension for image "
                    + "models) (default ${DEFAULT-VALUE})")
    String metric;

    static final class Axes extends Options.Choice { Axes() { super("step", "time"); } }

    @Option(names = "--x", paramLabel = "AXIS", defaultValue = "step", converter = Axes.class,
            completionCandidates = Axes.class,
            description = "${COMPLETION-CANDIDATES}: against the step or the training time in seconds "
                    + "(evaluations excluded) (default ${DEFAULT-VALUE})")
    String xAxis;

    @Option(names = "--labels", paramLabel = "NAME[,NAME...]",
            description = "one legend name per run (default: the folder names)")
    String labels;

    @Option(names = "--title", paramLabel = "TEXT", description = "plot title (default: Validation <metric>)")
    String title;

    @Override public Integer call() throws IOException {
        if (!outFile.getFileName().toString().endsWith(".png"))
            throw new UsageException("plot-runs: --out must name a .png file, got " + outFile);
        Cli.outputFile("plot-runs", "--out", outFile);
        List<Plot.Series> series = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String name : runs.split(",")) if (!name.isBlank()) names.add(name.trim());
        List<String> legend = new ArrayList<>();
        if (labels != null) for (String l : labels.split(",", -1)) legend.add(l.trim());
        if (labels != null && legend.size() != names.size())
            throw new UsageException("plot-runs: --labels has " + legend.size() + " names for " + names.size()
                    + " --runs");
        boolean time = xAxis.equals("time");
        out.printf(Locale.ROOT, "%-40s %8s %12s%n", "run", time ? "seconds" : "step", metric);
        for (int k = 0; k < names.size(); k++) {
            String name = names.get(k);
            Path log = Path.of(name).resolve("log.csv");
            if (!Files.isRegularFile(log)) throw new UsageException("plot-runs: " + log + " not found (is "
                    + name + " a run folder?)");
            List<double[]> pts = new ArrayList<>();
            List<TrainingLog.Row> rows;
            try {
                rows = TrainingLog.read(log);
            } catch (IOException e) {
                throw new UsageException("plot-runs: " + e.getMessage());
            }
            double[] seconds = TrainingLog.trainingSeconds(rows);
            for (int i = 0; i < rows.size(); i++) {
                TrainingLog.Row r = rows.get(i);
                if (!r.split().equals(split)) continue;
                pts.add(new double[]{time ? seconds[i] : r.step(), switch (metric) {
                    case "loss" -> r.loss();
                    case "accuracy" -> r.accuracy();
                    case "bits" -> r.loss() / Math.log(2);
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
            String label = labels != null ? legend.get(k) : Path.of(name).getFileName().toString();
            series.add(new Plot.Series(label, x, y, null));
            out.printf(Locale.ROOT, "%-40s %8.0f %12.4f%n", label, x[x.length - 1], pts.get(pts.size() - 1)[1]);
        }
        if (title == null) title = (split.equals("valid") ? "Validation " : "Training ") + metric;
        Plot.lineChart(outFile, title, time ? "training time (s, evaluations excluded)" : "step",
                (metric.equals("bits") ? "bits per target (per dimension for images)" : metric)
                        + (split.equals("train") ? " (mean of 10 steps)" : ""), false, false, false, series,
                "from log.csv of each run (written atomically)");
        out.println("wrote " + outFile);
        return 0;
    }
}
