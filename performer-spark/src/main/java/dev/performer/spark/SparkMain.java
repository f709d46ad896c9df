package dev.performer.spark;

import dev.performer.cli.Commands;
import dev.performer.io.AtomicFiles;
import dev.performer.model.Score;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code performer spark embed|score|train}: the single-machine commands on Apache Spark, with
 * their flags where they mean the same. Runs on {@code local[*]} unless {@code --master} (or
 * spark-submit's {@code spark.master}) names a cluster.
 */
@Command(name = "performer spark", mixinStandardHelpOptions = true, version = "performer-spark 0.1.0-SNAPSHOT",
        synopsisHeading = "usage: ", customSynopsis = "performer spark <command> [options]",
        header = "performer on Apache Spark: embedding, scoring and data-parallel training%n",
        commandListHeading = "%ncommands:%n", optionListHeading = "%noptions:%n",
        footerHeading = "%nexamples:%n",
        footer = {
            "  performer spark embed --checkpoint runs/train-favor-softmax-bidir --data proteins/ --out emb.parquet",
            "  performer spark score --checkpoint runs/train-favor-softmax-causal --data heldout.fasta --out s.tsv",
            "  performer spark train --shards 2 --steps 300 --run runs/spark-bidir",
            "  spark-submit --master spark://host:7077 --class dev.performer.spark.SparkMain performer-spark.jar "
                    + "embed ...",
            "",
            "exit codes: 0 success, 2 usage or input error (one line on stderr), 1 internal error"})
public final class SparkMain implements Callable<Integer> {

    @Spec CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        spec.commandLine().getErr().print(spec.commandLine().getUsageMessage());
        spec.commandLine().getErr().flush();
        return 2;
    }

    public static void main(String[] argv) {
        int code = run(argv, System.out, System.err);
        SparkSession.getActiveSession().foreach(s -> { s.stop(); return null; });
        System.out.flush();
        System.exit(code);
    }

    /** Runs one command line as {@code performer spark ARGS} would; returns the exit code. */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        CommandLine top = new CommandLine(new SparkMain());
        top.addSubcommand("embed", new EmbedCommand());
        top.addSubcommand("score", new ScoreCommand());
        top.addSubcommand("bench", new SparkBench());
        SparkOptions so = new SparkOptions();
        CommandLine train = Commands.train(() -> so.engine());
        train.addMixin("spark", so);
        top.addSubcommand("train", train);
        Commands.configure(top, out, err);
        // a job's failure arrives wrapped in Spark's exceptions: the user's mistake inside is still one line
        var internal = top.getExecutionExceptionHandler();
        top.setExecutionExceptionHandler((ex, cl, parsed) -> {
            for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
                String user = t.getClass().getName().endsWith(".InvalidInputException")   // Hadoop's: no such path
                        ? "--data: " + t.getMessage() : Commands.userError(t);
                if (user != null) {
                    err.println("error: " + user);
                    return 2;
                }
            }
            return internal.handleExecutionException(ex, cl, parsed);
        });
        try {
            return top.execute(argv);
        } catch (OutOfMemoryError e) {
            err.println("error: out of memory (" + e.getMessage() + "); give the driver more heap");
            return 2;
        }
    }

    /** --master, and the engine's settings for train. */
    static final class SparkOptions {
        @Option(names = "--master", paramLabel = "URL",
                description = "Spark master: local[N], local[*], spark://host:7077, yarn, k8s://... (default: "
                        + "spark-submit's, else local[*])")
        String master;

        @Option(names = "--shards", paramLabel = "S", defaultValue = "2",
                description = "train: tasks per step, each computing B/S rows of the batch (default ${DEFAULT-VALUE})")
        int shards;

        @Option(names = "--accumulate", paramLabel = "A", defaultValue = "1",
                description = "train: micro-batches per task, B/(S·A) rows per forward (default ${DEFAULT-VALUE})")
        int accumulate;

        @Option(names = "--local-steps", paramLabel = "K", defaultValue = "1",
                description = "train: local SGD, K steps per task between parameter averagings (default "
                        + "${DEFAULT-VALUE}: synchronous, equal to single-machine training)")
        int localSteps;

        SparkSession session() { return Sessions.start(master, "performer"); }

        SparkEngine engine() {
            if (shards < 1) throw new IllegalArgumentException("--shards must be >= 1, got " + shards);
            if (accumulate < 1) throw new IllegalArgumentException("--accumulate must be >= 1, got " + accumulate);
            if (localSteps < 1) throw new IllegalArgumentException("--local-steps must be >= 1, got " + localSteps);
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(session().sparkContext());
            return new SparkEngine(sc, shards).accumulate(accumulate).localSteps(localSteps);
        }
    }

    /** What embed and score share: the checkpoint, the FASTA input, the batching and the output. */
    abstract static class Inference implements Callable<Integer> {
        @Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--checkpoint", paramLabel = "PATH", required = true,
                description = "a .safetensors file, or a run folder (its latest checkpoint)")
        String checkpoint;

        @Option(names = "--data", paramLabel = "PATH", required = true,
                description = "FASTA files (plain or .gz): a file, a folder, a glob, or several joined by commas")
        String data;

        @Option(names = "--L", paramLabel = "N", description = "sequence length (default: the checkpoint's training L)")
        Integer length;

        @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "rows per forward (default "
                + "${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--unknown", paramLabel = "POLICY", defaultValue = "x",
                description = "letters outside the alphabet: x (become X), skip (the record, counted) or fail "
                        + "(default ${DEFAULT-VALUE})")
        String unknown;

        @Option(names = "--partitions", paramLabel = "N",
                description = "partitions to spread the records over (default: Spark's default parallelism)")
        Integer partitions;

        @Mixin SparkOptions spark;

        PrintStream out() { return new PrintStream(new WriterStream(spec.commandLine().getOut()), true); }

        /** The transformer with the flags' checkpoint, batch, policy and L. */
        <T extends CheckpointTransformer> T configured(T t) {
            t.configure(checkpoint, batch, unknown.equals("fail") ? "fail" : "x", length == null ? 0 : length);
            return t;
        }

        /** The records, numbered in input order, spread over the partitions; the reader for its skip count. */
        Dataset<Row> records(SparkSession s, FastaFrames.Reader r) {
            if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
            if (length != null && length < 3) throw new IllegalArgumentException("--L must be >= 3, got " + length);
            if (partitions != null && partitions < 1)
                throw new IllegalArgumentException("--partitions must be >= 1, got " + partitions);
            for (String part : data.split(",")) {   // local paths are checked before Spark starts work
                boolean remote = part.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") && !part.startsWith("file:");
                if (remote || part.matches(".*[*?\\[{].*")) continue;
                Path p = Path.of(part.startsWith("file:") ? java.net.URI.create(part).getPath() : part);
                if (!Files.exists(p))
                    throw new IllegalArgumentException("--data: " + part + ": no such file or folder");
            }
            Dataset<Row> d = r.read(data).withColumn("_order", functions.monotonically_increasing_id());
            int n = partitions != null ? partitions : s.sparkContext().defaultParallelism();
            return d.repartition(n);
        }

        /** Checks the --out name before any work. */
        static void checkOut(String flag, Path out, String... endings) {
            String name = out.getFileName() == null ? "" : out.getFileName().toString();
            for (String e : endings) if (name.endsWith(e)) return;
            throw new IllegalArgumentException(flag + " must end with " + String.join(" or ", endings) + ", got "
                    + out);
        }
    }

    @Command(name = "embed", mixinStandardHelpOptions = true, sortOptions = false,
            synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
            header = "per-sequence mean-pooled embeddings of FASTA records, on Spark",
            description = "The embeddings of performer embed (the same numbers), computed by the executors: the "
                    + "checkpoint is broadcast once, each partition runs its records B at a time. --out FILE.npy "
                    + "collects them to the driver in input order (ids to FILE.ids.txt, as performer embed writes "
                    + "them); --out DIR.parquet writes (id, embedding) from the executors.",
            footerHeading = "%nexample:%n",
            footer = "  performer spark embed --checkpoint runs/train-favor-softmax-bidir --data heldout.fasta "
                    + "--out emb.npy")
    static final class EmbedCommand extends Inference {
        @Option(names = "--out", paramLabel = "FILE.npy|DIR.parquet", required = true,
                description = "embeddings: a .npy file (ids beside it) or a Parquet folder")
        Path outPath;

        @Override public Integer call() throws IOException {
            checkOut("--out", outPath, ".npy", ".parquet");
            SparkSession s = spark.session();
            FastaFrames.Reader reader = FastaFrames.reader(s).unknown(FastaFrames.Unknown.of(unknown));
            Dataset<Row> emb = configured(new PerformerEmbedder()).transform(records(s, reader));
            PrintStream o = out();
            if (outPath.toString().endsWith(".parquet")) {
                emb.select("id", "embedding").write().mode(SaveMode.ErrorIfExists).parquet(outPath.toString());
                o.printf("embeddings of %d records -> %s (Parquet)%s%n", s.read().parquet(outPath.toString()).count(),
                        outPath, skipped(reader));
                return 0;
            }
            List<Row> rows = emb.orderBy("_order").select("id", "embedding").collectAsList();
            int c = rows.isEmpty() ? 0 : rows.get(0).getList(1).size();
            float[] all = new float[rows.size() * c];
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                ids.add(rows.get(i).getString(0));
                List<Float> v = rows.get(i).getList(1);
                for (int j = 0; j < c; j++) all[i * c + j] = v.get(j);
            }
            Path idFile = Commands.writeEmbeddings(outPath, ids, c, all);
            o.printf("%d embeddings of width %d -> %s, ids -> %s%s%n", rows.size(), c, outPath, idFile,
                    skipped(reader));
            return 0;
        }
    }

    @Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
            synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
            header = "per-record log-likelihood and perplexity of FASTA records, on Spark",
            description = "The scores of performer score (log-likelihood for causal models, pseudo-log-likelihood "
                    + "for masked ones), computed by the executors. --out FILE.tsv collects them in input order in "
                    + "performer score's format; --out DIR.parquet writes (id, log_likelihood, tokens, perplexity) "
                    + "from the executors.",
            footerHeading = "%nexample:%n",
            footer = "  performer spark score --checkpoint runs/train-favor-softmax-causal --data heldout.fasta "
                    + "--out scores.tsv")
    static final class ScoreCommand extends Inference {
        @Option(names = "--out", paramLabel = "FILE.tsv|DIR.parquet", required = true,
                description = "scores: a TSV file or a Parquet folder")
        Path outPath;

        @Override public Integer call() throws IOException {
            checkOut("--out", outPath, ".tsv", ".parquet");
            SparkSession s = spark.session();
            FastaFrames.Reader reader = FastaFrames.reader(s).unknown(FastaFrames.Unknown.of(unknown));
            PerformerScorer sc = configured(new PerformerScorer());
            Dataset<Row> scored = sc.transform(records(s, reader));
            PrintStream o = out();
            if (outPath.toString().endsWith(".parquet")) {
                scored.select("id", "log_likelihood", "tokens", "perplexity").write().mode(SaveMode.ErrorIfExists)
                        .parquet(outPath.toString());
                o.printf("scores -> %s (Parquet)%s%n", outPath, skipped(reader));
                return 0;
            }
            List<Row> rows = scored.orderBy("_order").select("id", "log_likelihood", "tokens").collectAsList();
            StringBuilder sb = new StringBuilder(Commands.scoreHeader()).append('\n');
            boolean pseudo = !sc.load().model().config().causal();
            for (Row r : rows)
                sb.append(Commands.scoreLine(r.getString(0), new Score(r.getDouble(1), r.getInt(2), pseudo)))
                        .append('\n');
            AtomicFiles.writeString(outPath, sb.toString());
            o.printf("%d scores -> %s%s%n", rows.size(), outPath, skipped(reader));
            return 0;
        }
    }

    private static String skipped(FastaFrames.Reader r) {
        long n = r.skipped();
        return n == 0 ? "" : " (" + n + " records skipped)";
    }

    /** A PrintStream over picocli's writer. */
    private static final class WriterStream extends java.io.OutputStream {
        private final java.io.PrintWriter w;
        WriterStream(java.io.PrintWriter w) { this.w = w; }
        @Override public void write(int b) { w.write(b); }
        @Override public void write(byte[] b, int off, int len) {
            w.write(new String(b, off, len, StandardCharsets.UTF_8));
        }
        @Override public void flush() { w.flush(); }
    }
}
