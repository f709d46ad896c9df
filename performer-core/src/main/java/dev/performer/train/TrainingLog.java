package dev.performer.train;

import dev.performer.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run's {@code log.csv}, written and read here only. Columns:
 * {@code step,split,loss,accuracy,perplexity,lr,grad_norm,tokens_per_s,elapsed_s}; one {@code train}
 * row per step and one {@code valid} row per evaluation (whose lr, grad_norm and tokens_per_s are
 * empty, read back as NaN).
 */
public final class TrainingLog {

    public static final String FILE = "log.csv";
    public static final String HEADER = "step,split,loss,accuracy,perplexity,lr,grad_norm,tokens_per_s,elapsed_s";

    /** One row. {@code split} is "train" or "valid". */
    public record Row(int step, String split, double loss, double accuracy, double perplexity, double lr,
                      double gradNorm, double tokensPerSecond, double elapsedSeconds) {
        public boolean isTrain() { return split.equals("train"); }
        public boolean isValid() { return split.equals("valid"); }

        String csv() {
            return isTrain()
                    ? String.format(Locale.ROOT, "%d,train,%.6f,%.6f,%.4f,%.6g,%.4f,%.1f,%.2f", step, loss, accuracy,
                            perplexity, lr, gradNorm, tokensPerSecond, elapsedSeconds)
                    : String.format(Locale.ROOT, "%d,%s,%.6f,%.6f,%.4f,,,,%.2f", step, split, loss, accuracy,
                            perplexity, elapsedSeconds);
        }
    }

    private final Path file;

    private TrainingLog(Path file) { this.file = file; }

    /** The log of a run folder. */
    public static Path of(Path runDir) { return runDir.resolve(FILE); }

    /**
     * Opens a run's log for writing from a step on: rows of earlier steps are kept (a resumed run),
     * later ones dropped (they belonged to the part of the run being redone).
     */
    public static TrainingLog open(Path runDir, int startStep) throws IOException {
        Path f = of(runDir);
        List<String> keep = new ArrayList<>();
        keep.add(HEADER);
        if (startStep > 0 && Files.exists(f))
            for (Row r : read(f, true)) if (r.step() <= startStep) keep.add(r.csv());
        AtomicFiles.writeString(f, String.join("\n", keep) + "\n");   // a kill here leaves the old log or this one
        return new TrainingLog(f);
    }

    public void append(Row r) throws IOException {
        Files.writeString(file, r.csv() + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    /**
     * Seconds spent training (evaluations excluded) when each row was written: the wall-clock axis on
     * which models of different cost compare. A resumed run's clock restarts at 0 in the log; the
     * time before the restart is carried over.
     */
    public static double[] trainingSeconds(List<Row> rows) {
        double[] t = new double[rows.size()];
        double cum = 0, prev = 0;
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            double delta = r.elapsedSeconds() - prev;
            if (delta < 0) delta = r.elapsedSeconds();   // the clock restarted (a resumed run)
            if (r.isTrain()) cum += delta;
            t[i] = cum;
            prev = r.elapsedSeconds();
        }
        return t;
    }

    /** Every row of a log file; a malformed line is an IOException naming the file and the line. */
    public static List<Row> read(Path file) throws IOException { return read(file, false); }

    /** As {@link #read(Path)}; with tornEnd a malformed last line (a write cut short by a kill) is dropped. */
    static List<Row> read(Path file, boolean tornEnd) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.get(0).equals(HEADER))
            throw new IOException(file + ": not a training log (expected the header " + HEADER + ")");
        List<Row> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            String[] f = line.split(",", -1);
            try {
                if (f.length != 9) throw new IllegalArgumentException(f.length + " fields instead of 9");
                rows.add(new Row(Integer.parseInt(f[0]), f[1], num(f[2]), num(f[3]), num(f[4]), num(f[5]), num(f[6]),
                        num(f[7]), num(f[8])));
            } catch (IllegalArgumentException e) {
                if (tornEnd && lines.subList(i + 1, lines.size()).stream().allMatch(String::isBlank)) break;
                throw new IOException(file + ": line " + (i + 1) + " is malformed (" + e.getMessage() + "): " + line);
            }
        }
        return rows;
    }

    private static double num(String s) { return s.isEmpty() ? Double.NaN : Double.parseDouble(s); }
}
