package dev.performer.spark;

import dev.performer.data.Tokenizer;
import dev.performer.kernel.Backend;
import dev.performer.kernel.Kernels;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.train.Checkpoint;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What the embedder and the scorer share: a checkpoint (a .safetensors file or a run folder, read
 * by the driver and broadcast, so each executor JVM deserializes it once), a column of sequences
 * (strings: residue letters, or text for byte models), rows batched B at a time within each
 * partition, L (0: the checkpoint's training L), and the policy for letters outside the alphabet.
 * Output rows keep every input column, in the input order.
 */
abstract class CheckpointTransformer extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> checkpoint, inputCol, idCol, unknown;
    private final IntParam batchSize, length;

    CheckpointTransformer(String uid) {
        this.uid = uid;
        checkpoint = new Param<>(this, "checkpoint", "a .safetensors checkpoint, or a run folder (its latest one)");
        inputCol = new Param<>(this, "inputCol", "the column of sequences (strings)");
        idCol = new Param<>(this, "idCol", "a column naming rows in error messages (absent: the row number)");
        unknown = new Param<>(this, "unknown", "letters outside the alphabet: x (become X) or fail",
                ParamValidators.inArray(new String[]{"x", "fail"}));
        batchSize = new IntParam(this, "batchSize", "rows per forward (B)", ParamValidators.gtEq(1));
        length = new IntParam(this, "length", "tokens per row (L); 0: the checkpoint's training L",
                ParamValidators.gtEq(0));
        setDefault(inputCol, "sequence");
        setDefault(idCol, "id");
        setDefault(unknown, "x");
        setDefault(batchSize, 8);
        setDefault(length, 0);
    }

    @Override public String uid() { return uid; }

    public Param<String> checkpoint() { return checkpoint; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> idCol() { return idCol; }
    public Param<String> unknown() { return unknown; }
    public IntParam batchSize() { return batchSize; }
    public IntParam length() { return length; }

    public String getCheckpoint() { return getOrDefault(checkpoint); }
    public String getInputCol() { return getOrDefault(inputCol); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize); }
    public int getLength() { return (Integer) getOrDefault(length); }

    /** The settings the Spark commands take from their flags (length 0: the checkpoint's L). */
    void configure(String path, int b, String policy, int l) {
        set(checkpoint, path);
        set(batchSize, b);
        set(unknown, policy);
        set(length, l);
    }

    /** The columns this transformer appends. */
    abstract List<StructField> outputFields();

    /** The values of the appended columns for a batch of encoded records (on an executor). */
    abstract Object[][] compute(PerformerModel model, List<int[]> records, int b, int l);

    @Override
    public StructType transformSchema(StructType schema) {
        String in = getInputCol();
        StructField f = field(schema, in);
        if (f == null)
            throw new IllegalArgumentException("inputCol: no column '" + in + "' in " + schema.simpleString());
        if (!f.dataType().equals(DataTypes.StringType))
            throw new IllegalArgumentException("inputCol: column '" + in + "' is " + f.dataType().simpleString()
                    + ", not string");
        StructType out = schema;
        for (StructField o : outputFields()) {
            if (field(schema, o.name()) != null)
                throw new IllegalArgumentException("output column '" + o.name() + "' exists already");
            out = out.add(o);
        }
        return out;
    }

    private static StructField field(StructType s, String name) {
        for (StructField f : s.fields()) if (f.name().equals(name)) return f;
        return null;
    }

    /** The checkpoint, loaded on the driver; a missing or damaged one is an error naming it. */
    Checkpoint.Loaded load() {
        if (!isDefined(checkpoint)) throw new IllegalArgumentException("checkpoint: not set");
        Path p = Path.of(getCheckpoint());
        try (Kernels k = Kernels.create(Backend.SCALAR, 1)) {
            Path file = Files.isDirectory(p) ? Checkpoint.latest(p).orElseThrow(
                    () -> new IllegalArgumentException("checkpoint: " + p + " holds no checkpoint")) : p;
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException("checkpoint: " + p + ": no such file");
            return Checkpoint.load(file, k);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType outSchema = transformSchema(dataset.schema());
        Checkpoint.Loaded ld = load();
        ModelConfig cfg = ld.model().config();
        int l = getLength() > 0 ? getLength() : ld.training().map(t -> t.batching().length()).orElse(cfg.maxLen());
        if (l > cfg.maxLen())
            throw new IllegalArgumentException("length " + l + " exceeds the model's maxLen " + cfg.maxLen());
        SparkSession spark = dataset.sparkSession();
        Broadcast<ModelState> state = spark.sparkContext().broadcast(ModelState.of(ld.model()),
                scala.reflect.ClassTag$.MODULE$.apply(ModelState.class));
        StructType in = dataset.schema();
        String idName = getOrDefault(idCol);
        int idIndex = field(in, idName) == null ? -1 : in.fieldIndex(idName);
        Batcher job = new Batcher(this, state, in.fieldIndex(getInputCol()), idIndex, getBatchSize(), l,
                getOrDefault(unknown).equals("x") ? Tokenizer.Unknown.MAP_TO_X : null, cfg.tokenizer());
        return dataset.toDF().mapPartitions(job, Encoders.row(outSchema));
    }

    /** One partition's rows, B at a time, through a borrowed model. */
    private record Batcher(CheckpointTransformer owner, Broadcast<ModelState> state, int col, int idCol, int b, int l,
                           Tokenizer.Unknown policy, Tokenizer tokenizer)
            implements MapPartitionsFunction<Row, Row>, Serializable {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Iterator<>() {
                private final List<Row> out = new ArrayList<>();
                private ExecutorModels.Lease lease;   // one model for the whole partition
                private int next;
                private long seen;

                @Override public boolean hasNext() {
                    if (next < out.size()) return true;
                    if (!rows.hasNext()) return false;
                    fill();
                    return next < out.size();
                }

                @Override public Row next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    return out.get(next++);
                }

                private void fill() {
                    out.clear();
                    next = 0;
                    List<Row> in = new ArrayList<>(b);
                    List<int[]> recs = new ArrayList<>(b);
                    while (in.size() < b && rows.hasNext()) {
                        Row r = rows.next();
                        seen++;
                        recs.add(encode(r));
                        in.add(r);
                    }
                    if (lease == null) lease = ExecutorModels.borrow(state.value(), state.id());
                    Object[][] cols = owner.compute(lease.model, recs, b, l);
                    for (int i = 0; i < in.size(); i++) {
                        Row r = in.get(i);
                        Object[] v = new Object[r.length() + cols[i].length];
                        for (int j = 0; j < r.length(); j++) v[j] = r.get(j);
                        System.arraycopy(cols[i], 0, v, r.length(), cols[i].length);
                        out.add(RowFactory.create(v));
                    }
                    if (!rows.hasNext()) lease.close();   // done: the model goes back at once
                }

                private int[] encode(Row r) {
                    String seq = r.isNullAt(col) ? null : r.getString(col);
                    if (seq == null) throw new IllegalArgumentException(name(r) + ": the sequence is null");
                    if (policy == null && tokenizer == Tokenizer.PROTEIN) {
                        int bad = tokenizer.firstUnknown(seq);
                        if (bad >= 0)
                            throw new IllegalArgumentException(name(r) + " has '" + seq.charAt(bad) + "' at residue "
                                    + (bad + 1) + ", not an amino-acid letter");
                    }
                    return tokenizer.encode(seq, Tokenizer.Unknown.MAP_TO_X);
                }

                private String name(Row r) {
                    return idCol >= 0 && !r.isNullAt(idCol) ? "row " + r.get(idCol) : "row " + seen
                            + " of partition " + org.apache.spark.TaskContext.getPartitionId();
                }
            };
        }
    }
}
