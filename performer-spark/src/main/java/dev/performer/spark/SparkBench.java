package dev.performer.spark;

import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.io.AtomicFiles;
import dev.performer.kernel.Backend;
import dev.performer.kernel.Kernels;
import dev.performer.model.Direction;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.train.AdamW;
import dev.performer.train.Checkpoint;
import dev.performer.train.TrainConfig;
import dev.performer.train.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code performer spark bench}: what Spark costs. Embedding: records per second of this JVM
 * alone (the core, every core) and of the Spark master given, on the same data. Training: step
 * time of the single-JVM trainer against the Spark engine (S shards, accumulation, local SGD),
 * split into the longest task's compute and the rest (Spark's scheduling, the broadcast, the
 * reduction, the driver's update), for several model widths.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "measure Spark's throughput and per-step cost against one JVM",
        description = "--what embed: embeds --data with --checkpoint in this JVM (no Spark, all cores) and on "
                + "--master, --repeat times each, and reports the median records/s and residues/s. --what train: "
                + "--steps steps (after --warmup) of 2-layer models of each --widths on the bundled training "
                + "sample, single JVM against the Spark modes of --modes (s1: one shard of every core; s2: two "
                + "shards; s2a2: two shards of two micro-batches at twice the batch; s2k4: local SGD, K = 4), "
                + "reporting the median step time, the longest task's compute and Spark's share of the step. Rows "
                + "are appended to --out (TSV).",
        footerHeading = "%nexample:%n",
        footer = "  performer spark bench --what train --widths 128,256,512 --master local[2] "
                + "--out results/spark/train.tsv")
final class SparkBench implements Callable<Integer> {

    @Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--what", required = true, description = "embed or train") String what;
    @Option(names = "--master", defaultValue = "local[2]", description = "Spark master (default ${DEFAULT-VALUE})")
    String master;
    @Option(names = "--label", description = "the master's name in the table (default: the master)") String label;
    @Option(names = "--data", description = "embed: FASTA file") String data;
    @Option(names = "--checkpoint", description = "embed: checkpoint") String checkpoint;
    @Option(names = "--repeat", defaultValue = "3", description = "embed: runs per setting") int repeat;
    @Option(names = "--no-single", description = "do not measure the single JVM (measured by default)")
    boolean noSingle;
    @Option(names = "--widths", defaultValue = "128,256,512", split = ",", description = "train: model widths C")
    int[] widths;
    @Option(names = "--modes", defaultValue = "s1,s2,s2a2,s2k4", split = ",", description = "train: Spark modes")
    String[] modes;
    @Option(names = "--L", defaultValue = "256", description = "train: L") int length;
    @Option(names = "--batch", defaultValue = "8", description = "train: B") int batch;
    @Option(names = "--steps", defaultValue = "12", description = "train: measured steps") int steps;
    @Option(names = "--warmup", defaultValue = "4", description = "train: steps before measuring") int warmup;
    @Option(names = "--out", required = true, description = "TSV to append rows to") Path out;

    private PrintWriter log() { return spec.commandLine().getOut(); }

    @Override public Integer call() throws IOException {
        if (!what.equals("embed") && !what.equals("train"))
            throw new IllegalArgumentException("--what must be embed or train, got '" + what + "'");
        if (label == null) label = master;
        List<String> rows = new ArrayList<>();
        if (what.equals("embed")) embed(rows);
        else train(rows);
        String header = what.equals("embed") ? "what\tsetting\trecords\tresidues\tseconds_median\tseconds_min"
                + "\tseconds_max\trecords_per_s\tresidues_per_s"
                : "what\tsetting\twidth\tparams\tbatch\tstep_ms_median\tstep_ms_min\tstep_ms_max\tcompute_ms_median"
                + "\tspark_share\ttokens_per_s";
        String old = Files.exists(out) ? Files.readString(out) : "";
        StringBuilder sb = new StringBuilder(old.isEmpty() ? header + "\n" : old);
        for (String r : rows) sb.append(r).append('\n');
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        AtomicFiles.writeString(out, sb.toString());
        log().println("-> " + out);
        return 0;
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] x) { return Arrays.stream(x).min().orElse(Double.NaN); }
    private static double max(double[] x) { return Arrays.stream(x).max().orElse(Double.NaN); }

    private SparkSession session(int taskCpus) {
        SparkSession.getActiveSession().foreach(s -> { s.stop(); return null; });
        System.setProperty("spark.task.cpus", String.valueOf(taskCpus));
        return Sessions.start(master, "performer-bench");
    }

    private void embed(List<String> rows) throws IOException {
        if (data == null || checkpoint == null) throw new IllegalArgumentException("--what embed needs --data and "
                + "--checkpoint");
        int cores = Runtime.getRuntime().availableProcessors();
        SequenceData d = new SequenceData(Tokenizer.PROTEIN);
        SequenceData.readFiles(List.of(Path.of(data)), Tokenizer.Unknown.MAP_TO_X, d, null, 0, 0, null);
        long residues = d.residues();
        if (!noSingle) {
            double[] sec = new double[repeat];
            try (Kernels k = Kernels.create(Backend.VECTOR, cores)) {
                PerformerEmbedder e = new PerformerEmbedder().setCheckpoint(checkpoint);
                for (int r = 0; r < repeat; r++) {
                    long t0 = System.nanoTime();   // as performer embed: read, load, embed
                    SequenceData x = new SequenceData(Tokenizer.PROTEIN);
                    SequenceData.readFiles(List.of(Path.of(data)), Tokenizer.Unknown.MAP_TO_X, x, null, 0, 0, null);
                    Checkpoint.Loaded ld = e.load();
                    PerformerModel m = ModelState.of(ld.model()).build(k);
                    List<int[]> recs = new ArrayList<>();
                    for (int i = 0; i < x.size(); i++) recs.add(x.sequence(i));
                    int l = ld.training().map(t -> t.batching().length()).orElse(m.config().maxLen());
                    m.embedRecords(recs, 8, l);
                    sec[r] = (System.nanoTime() - t0) / 1e9;
                    log().printf(Locale.ROOT, "single JVM (%d threads) run %d: %.2f s%n", cores, r + 1, sec[r]);
                }
            }
            rows.add(embedRow("single JVM, " + cores + " threads", d.size(), residues, sec));
        }
        SparkSession s = session(1);
        double[] sec = new double[repeat];
        for (int r = 0; r < repeat; r++) {
            long t0 = System.nanoTime();
            new PerformerEmbedder().setCheckpoint(checkpoint)
                    .transform(FastaFrames.reader(s).read(data).repartition(s.sparkContext().defaultParallelism()))
                    .write().format("noop").mode("overwrite").save();
            sec[r] = (System.nanoTime() - t0) / 1e9;
            log().printf(Locale.ROOT, "spark %s run %d: %.2f s%n", label, r + 1, sec[r]);
        }
        rows.add(embedRow("spark " + label, d.size(), residues, sec));
    }

    private String embedRow(String setting, int records, long residues, double[] sec) {
        double med = median(sec);
        return String.format(Locale.ROOT, "embed\t%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.1f\t%.0f", setting, records,
                residues, med, min(sec), max(sec), records / med, residues / med);
    }

    private void train(List<String> rows) throws IOException {
        SequenceData d = new SequenceData(Tokenizer.PROTEIN);
        try (var in = dev.performer.data.FastaReader.open("swissprot2014_sample_train.fasta",
                dev.performer.cli.Commands.class.getResourceAsStream("data/swissprot2014_sample_train.fasta"))) {
            while (in.hasNext()) {
                var rec = in.next();
                d.add(rec.id(), Tokenizer.PROTEIN.encode(rec.sequence(), Tokenizer.Unknown.MAP_TO_X));
            }
        }
        int cores = Runtime.getRuntime().availableProcessors();
        for (int w : widths) {
            ModelConfig cfg = ModelConfig.builder().maxLen(length).layers(2).width(w).heads(4).ffn(2 * w)
                    .direction(Direction.BIDIRECTIONAL).attention(ModelConfig.small().attention()).build();
            if (!noSingle) {
                try (Kernels k = Kernels.create(Backend.VECTOR, cores)) {
                    rows.add(trainRow("single JVM, " + cores + " threads", cfg, k, Trainer.local(), null, batch, d));
                }
            }
            for (String mode : modes) {
                int shards = mode.startsWith("s1") ? 1 : 2, acc = mode.contains("a2") ? 2 : 1;
                int k = mode.contains("k4") ? 4 : 1;
                // one shard on a local master takes every core; a cluster's executors here have one each
                SparkSession s = session(shards == 1 && master.startsWith("local") ? cores : 1);
                SparkEngine e = new SparkEngine(JavaSparkContext.fromSparkContext(s.sparkContext()), shards)
                        .accumulate(acc).localSteps(k);
                try (Kernels kk = Kernels.create(Backend.VECTOR, cores)) {
                    rows.add(trainRow("spark " + label + " " + mode, cfg, kk, e, e, batch * acc, d));
                }
            }
        }
    }

    private String trainRow(String setting, ModelConfig cfg, Kernels k, Trainer.Engine engine, SparkEngine spark,
                            int b, SequenceData d) {
        PerformerModel m = new PerformerModel(cfg, k, 1);
        TrainConfig tc = TrainConfig.builder().steps(warmup + steps).batch(b).length(length).seed(3).build();
        AdamW opt = new AdamW(m.layout(), tc.optimizer());
        List<Double> wall = new ArrayList<>(), compute = new ArrayList<>();
        int step = 0;
        while (step < warmup + steps) {
            long t0 = System.nanoTime();
            int n = engine.advance(m, opt, tc, d, step, warmup + steps - step).size();
            double sec = (System.nanoTime() - t0) / 1e9;
            if (step >= warmup)
                for (int j = 0; j < n; j++) {
                    wall.add(sec / n);
                    compute.add(spark == null ? sec / n : spark.lastComputeSeconds() / n);
                }
            step += n;
        }
        double[] ws = wall.stream().mapToDouble(x -> x).toArray(), cs = compute.stream().mapToDouble(x -> x).toArray();
        double med = median(ws), cm = median(cs);
        log().printf(Locale.ROOT, "%s width %d (%,d params): step %.1f ms (compute %.1f ms)%n", setting, cfg.width(),
                m.params().length, med * 1e3, cm * 1e3);
        return String.format(Locale.ROOT, "train\t%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.3f\t%.0f", setting,
                cfg.width(), m.params().length, b, med * 1e3, min(ws) * 1e3, max(ws) * 1e3, cm * 1e3,
                spark == null ? 0 : 1 - cm / med, b * length / med);
    }
}
