package dev.performer.spark;

import dev.performer.model.PerformerModel;
import dev.performer.model.Score;
import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Per-sequence scores as a Spark ML Transformer, as {@code performer score} computes them:
 * the log-likelihood of causal models (over the symbols and EOS), the pseudo-log-likelihood of
 * bidirectional ones (each symbol masked in turn), in nats; the tokens it covers; and the
 * perplexity exp(−log-likelihood / tokens). Three columns appended: {@code log_likelihood}
 * (double), {@code tokens} (int), {@code perplexity} (double), renamed with their setters.
 */
public final class PerformerScorer extends CheckpointTransformer {
    private static final long serialVersionUID = 1L;

    private final Param<String> logLikelihoodCol, tokensCol, perplexityCol;

    public PerformerScorer() { this(Identifiable$.MODULE$.randomUID("performerScorer")); }

    public PerformerScorer(String uid) {
        super(uid);
        logLikelihoodCol = new Param<>(this, "logLikelihoodCol", "the column of (pseudo-)log-likelihoods, nats");
        tokensCol = new Param<>(this, "tokensCol", "the column of scored token counts");
        perplexityCol = new Param<>(this, "perplexityCol", "the column of perplexities");
        setDefault(logLikelihoodCol, "log_likelihood");
        setDefault(tokensCol, "tokens");
        setDefault(perplexityCol, "perplexity");
    }

    public Param<String> logLikelihoodCol() { return logLikelihoodCol; }
    public Param<String> tokensCol() { return tokensCol; }
    public Param<String> perplexityCol() { return perplexityCol; }

    public PerformerScorer setCheckpoint(String path) { set(checkpoint(), path); return this; }
    public PerformerScorer setInputCol(String c) { set(inputCol(), c); return this; }
    public PerformerScorer setIdCol(String c) { set(idCol(), c); return this; }
    public PerformerScorer setUnknown(String policy) { set(unknown(), policy); return this; }
    public PerformerScorer setBatchSize(int b) { set(batchSize(), b); return this; }
    public PerformerScorer setLength(int l) { set(length(), l); return this; }
    public PerformerScorer setLogLikelihoodCol(String c) { set(logLikelihoodCol, c); return this; }
    public PerformerScorer setTokensCol(String c) { set(tokensCol, c); return this; }
    public PerformerScorer setPerplexityCol(String c) { set(perplexityCol, c); return this; }

    @Override List<StructField> outputFields() {
        return List.of(DataTypes.createStructField(getOrDefault(logLikelihoodCol), DataTypes.DoubleType, false),
                DataTypes.createStructField(getOrDefault(tokensCol), DataTypes.IntegerType, false),
                DataTypes.createStructField(getOrDefault(perplexityCol), DataTypes.DoubleType, true));
    }

    @Override Object[][] compute(PerformerModel model, List<int[]> records, int b, int l) {
        Score[] s = model.score(records, b, l);
        Object[][] out = new Object[s.length][];
        for (int i = 0; i < s.length; i++) {
            double p = s[i].perplexity();
            out[i] = new Object[]{s[i].logLikelihood(), s[i].tokens(), Double.isNaN(p) ? null : p};
        }
        return out;
    }

    @Override public PerformerScorer copy(ParamMap extra) { return defaultCopy(extra); }

    /** For {@code Pipeline.load} and {@code PerformerScorer.load(path)}. */
    public static MLReader<PerformerScorer> read() { return new DefaultParamsReader<>(); }

    public static PerformerScorer load(String path) { return read().load(path); }
}
