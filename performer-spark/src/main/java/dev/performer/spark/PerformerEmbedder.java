package dev.performer.spark;

import dev.performer.model.PerformerModel;
import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Per-sequence embeddings as a Spark ML Transformer: the mean over each record's tokens (BOS,
 * symbols, EOS) of the model's final LayerNorm output, exactly as {@code performer embed}
 * computes it, appended as an {@code array<float>} column of width C.
 * <pre>{@code
 * Dataset<Row> emb = new PerformerEmbedder().setCheckpoint("runs/train-favor-softmax-bidir")
 *         .setInputCol("sequence").setOutputCol("embedding").transform(proteins);
 * }</pre>
 * Usable in a {@code Pipeline}, and saved and loaded with it (the checkpoint by its path).
 */
public final class PerformerEmbedder extends CheckpointTransformer {
    private static final long serialVersionUID = 1L;

    private final Param<String> outputCol;

    public PerformerEmbedder() { this(Identifiable$.MODULE$.randomUID("performerEmbedder")); }

    public PerformerEmbedder(String uid) {
        super(uid);
        outputCol = new Param<>(this, "outputCol", "the column of embeddings (array<float> of width C)");
        setDefault(outputCol, "embedding");
    }

    public Param<String> outputCol() { return outputCol; }
    public String getOutputCol() { return getOrDefault(outputCol); }

    public PerformerEmbedder setCheckpoint(String path) { set(checkpoint(), path); return this; }
    public PerformerEmbedder setInputCol(String c) { set(inputCol(), c); return this; }
    public PerformerEmbedder setOutputCol(String c) { set(outputCol, c); return this; }
    public PerformerEmbedder setIdCol(String c) { set(idCol(), c); return this; }
    public PerformerEmbedder setUnknown(String policy) { set(unknown(), policy); return this; }
    public PerformerEmbedder setBatchSize(int b) { set(batchSize(), b); return this; }
    public PerformerEmbedder setLength(int l) { set(length(), l); return this; }

    @Override List<StructField> outputFields() {
        return List.of(DataTypes.createStructField(getOutputCol(), DataTypes.createArrayType(DataTypes.FloatType,
                false), false));
    }

    @Override Object[][] compute(PerformerModel model, List<int[]> records, int b, int l) {
        int c = model.config().width();
        float[] e = model.embedRecords(records, b, l);
        Object[][] out = new Object[records.size()][];
        for (int i = 0; i < out.length; i++) {
            Float[] v = new Float[c];
            for (int j = 0; j < c; j++) v[j] = e[i * c + j];
            out[i] = new Object[]{v};
        }
        return out;
    }

    @Override public PerformerEmbedder copy(ParamMap extra) { return defaultCopy(extra); }

    /** For {@code Pipeline.load} and {@code PerformerEmbedder.load(path)}. */
    public static MLReader<PerformerEmbedder> read() { return new DefaultParamsReader<>(); }

    public static PerformerEmbedder load(String path) { return read().load(path); }
}
