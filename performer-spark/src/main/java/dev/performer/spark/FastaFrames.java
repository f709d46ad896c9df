package dev.performer.spark;

import dev.performer.data.DataFormatException;
import dev.performer.data.FastaReader;
import dev.performer.data.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * FASTA files (plain or gzip, local or on any file system Spark reads) as a DataFrame of
 * {@code (id string, sequence string)}, one row per record in file order, with the CLI's rules:
 * the id is the header up to the first space, whitespace inside the sequence is dropped, a file
 * that is not FASTA (text before the first header, binary bytes, cut-off gzip) fails the job with
 * the file and line. Residues outside the 25-letter alphabet follow {@link Unknown}; records with
 * no residue are skipped and counted, as {@code performer train} skips them.
 * <pre>{@code
 * FastaFrames.Reader r = FastaFrames.reader(spark).unknown(FastaFrames.Unknown.SKIP);
 * Dataset<Row> proteins = r.read("uniprot/*.fasta.gz");
 * proteins.count(); long skipped = r.skipped();
 * }</pre>
 * Each file is read by one task (gzip is not splittable): many files spread over the cluster;
 * one large file gives one partition, to {@code repartition} before heavy work.
 */
public final class FastaFrames {

    private FastaFrames() {}

    /** What a record with a character outside the alphabet becomes. */
    public enum Unknown {
        /** The character becomes X (the CLI's default). */
        X,
        /** The record is left out and counted in {@link Reader#skipped()} (the CLI's {@code --unknown skip}). */
        SKIP,
        /** The job fails with the file, line, record id and character. */
        FAIL;

        /** From the CLI's names: x, skip, fail. */
        public static Unknown of(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "x" -> X;
                case "skip" -> SKIP;
                case "fail" -> FAIL;
                default -> throw new IllegalArgumentException("unknown-residue policy must be x, skip or fail, got '"
                        + name + "'");
            };
        }
    }

    /** The schema of the frames read: id, sequence (neither null). */
    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("sequence", DataTypes.StringType, false);

    /** A reader for a session, with the CLI's defaults (unknown residues as X). */
    public static Reader reader(SparkSession spark) { return new Reader(spark); }

    /** Reads FASTA files into (id, sequence) frames; counts the records it skipped. */
    public static final class Reader {
        private final SparkSession spark;
        private final LongAccumulator skipped;
        private Unknown unknown = Unknown.X;
        private int minPartitions;

        private Reader(SparkSession spark) {
            this.spark = spark;
            this.skipped = spark.sparkContext().longAccumulator("performer.fasta.skipped");
        }

        public Reader unknown(Unknown u) { this.unknown = u; return this; }

        /** At least this many partitions (binaryFiles' minPartitions; 0: Spark's default). */
        public Reader minPartitions(int n) { this.minPartitions = n; return this; }

        /**
         * The records of the files path names (a file, a folder, a glob; several separated by
         * commas, as Spark takes them). Lazy: nothing is read before an action.
         */
        public Dataset<Row> read(String path) {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            int parts = minPartitions > 0 ? minPartitions : sc.defaultMinPartitions();
            Parse parse = new Parse(unknown, skipped);
            return spark.createDataFrame(sc.binaryFiles(path, parts).flatMap(f -> parse.records(f._1(), f._2())),
                    SCHEMA);
        }

        /** Records skipped so far by the frames of this reader (complete after an action on them). */
        public long skipped() { return skipped.value(); }
    }

    /** The parsing of one file, on an executor: records streamed, the file closed at its end or the task's. */
    private record Parse(Unknown unknown, LongAccumulator skipped) implements Serializable {
        java.util.Iterator<Row> records(String uri, PortableDataStream data) throws IOException {
            String name = displayName(uri);
            InputStream in = data.open();
            FastaReader r;
            try {
                r = FastaReader.open(name, in);
            } catch (IOException | RuntimeException e) {
                in.close();
                throw e;
            }
            org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
            if (tc != null) tc.addTaskCompletionListener((org.apache.spark.TaskContext c) -> close(r));
            return new java.util.Iterator<>() {
                private Row next = advance();

                private Row advance() {
                    try {
                        while (r.hasNext()) {
                            FastaReader.Record rec = r.next();
                            String seq = rec.sequence();
                            int bad = Tokenizer.PROTEIN.firstUnknown(seq);
                            if (bad >= 0 && unknown == Unknown.FAIL)
                                throw new DataFormatException(name + ":" + rec.line() + ": record " + rec.id()
                                        + " has '" + seq.charAt(bad) + "' at residue " + (bad + 1)
                                        + ", not an amino-acid letter");
                            if (seq.isEmpty() || bad >= 0 && unknown == Unknown.SKIP) {
                                skipped.add(1);
                                continue;
                            }
                            return RowFactory.create(rec.id(), seq);
                        }
                        close(r);
                        return null;
                    } catch (DataFormatException e) {
                        close(r);
                        throw new UncheckedIOException(e);
                    }
                }

                @Override public boolean hasNext() { return next != null; }

                @Override public Row next() {
                    if (next == null) throw new java.util.NoSuchElementException();
                    Row out = next;
                    next = advance();
                    return out;
                }
            };
        }

        private static void close(FastaReader r) {
            try {
                r.close();
            } catch (IOException ignored) {
                // reading is over either way; a failing close loses nothing
            }
        }
    }

    /** A local file's path without the "file:" scheme; other URIs as they are. */
    static String displayName(String uri) {
        return uri.startsWith("file:") ? java.nio.file.Path.of(java.net.URI.create(uri)).toString() : uri;
    }
}
