package dev.performer.spark;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.attention.AttentionSpec;
import dev.performer.attention.FeatureKind;
import dev.performer.attention.Projection;
import dev.performer.data.FastaReader;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import dev.performer.model.Direction;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.train.AdamW;
import dev.performer.train.Checkpoint;
import dev.performer.train.TrainConfig;
import dev.performer.train.Trainer;
import dev.performer.train.TrainingLog;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spark's data-parallel training against the single-machine trainer, and under a failed task. */
class SparkTrainingTest {

    static final Kernels KERN = new VectorKernels(1);
    static SequenceData train;

    @TempDir Path tmp;

    @BeforeAll
    static void data() throws IOException {
        train = new SequenceData(Tokenizer.PROTEIN);
        try (FastaReader r = FastaReader.open(LocalSpark.sample("swissprot2014_sample_train.fasta"))) {
            for (int i = 0; i < 300 && r.hasNext(); i++) {
                FastaReader.Record rec = r.next();
                train.add(rec.id(), Tokenizer.PROTEIN.encode(rec.sequence(), Tokenizer.Unknown.MAP_TO_X));
            }
        }
    }

    @AfterAll
    static void close() { KERN.close(); }

    static ModelConfig config(Direction d) {
        // FAVOR+ redrawn every 2 steps: the executors' projections must follow the driver's
        return ModelConfig.builder().maxLen(64).layers(2).width(32).heads(2).ffn(64).direction(d).dropout(0.1f)
                .attention(new AttentionSpec.Favor(FeatureKind.SOFTMAX, 16, Projection.Type.ORTHOGONAL,
                        Projection.Scaling.CHI, 2))
                .build();
    }

    static TrainConfig training(int steps) {
        return TrainConfig.builder().steps(steps).batch(8).length(64).lr(3e-3f).warmup(1).seed(7)
                .checkpointEvery(2).build();
    }

    record Run(PerformerModel model, AdamW opt, List<Float> losses) {}

    private Run run(Direction d, int steps, Trainer.Engine engine, Path dir) throws IOException {
        PerformerModel m = new PerformerModel(config(d), KERN, 11);
        Trainer t = new Trainer(m, training(steps), train, null, dir);
        if (engine != null) t.engine(engine);
        t.run();
        Checkpoint.Loaded ld = Checkpoint.load(Checkpoint.latest(dir).orElseThrow(), KERN);
        return new Run(m, ld.optimizer(), losses(dir));
    }

    static List<Float> losses(Path dir) throws IOException {
        List<Float> out = new ArrayList<>();
        for (TrainingLog.Row r : TrainingLog.read(TrainingLog.of(dir)))
            if (r.split().equals("train")) out.add((float) r.loss());
        return out;
    }

    /** max |a − b| / max |b|: the size of a difference against the size of the vector. */
    static double relative(float[] a, float[] b) {
        double d = 0, s = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
            s = Math.max(s, Math.abs(b[i]));
        }
        return d / s;
    }

    @Test
    void twoShardsOfFourEqualTheSingleMachineTrainerWithBatchEight() throws IOException {
        for (Direction d : List.of(Direction.BIDIRECTIONAL, Direction.CAUSAL)) {
            Run single = run(d, 4, null, tmp.resolve("single-" + d));
            Run spark = run(d, 4, new SparkEngine(LocalSpark.context(), 2), tmp.resolve("spark-" + d));
            Run acc = run(d, 4, new SparkEngine(LocalSpark.context(), 2).accumulate(2), tmp.resolve("acc-" + d));
            for (int s = 0; s < 4; s++) {
                // the same rows, masks and dropout; the gradient sums are regrouped (float rounding, ~1e-7 relative)
                assertEquals(single.losses().get(s), spark.losses().get(s), 1e-5, d + " loss of step " + (s + 1));
                assertEquals(single.losses().get(s), acc.losses().get(s), 1e-5, d + " loss, accumulated, step "
                        + (s + 1));
            }
            System.out.printf("%s: parameters after 4 steps differ by %.2e (2 shards), %.2e (2 x 2 accumulated)%n", d,
                    relative(spark.model().params(), single.model().params()),
                    relative(acc.model().params(), single.model().params()));
            // measured 2e-7 to 1.5e-6 (float sums regrouped, then 4 AdamW steps): bound 1e-5
            assertTrue(relative(spark.model().params(), single.model().params()) < 1e-5, d + " parameters");
            assertTrue(relative(acc.model().params(), single.model().params()) < 1e-5, d + " parameters, accumulated");
            for (int l = 0; l < 2; l++)
                assertArrayEquals(single.model().projection(l), spark.model().projection(l), d + " projections " + l);
        }
    }

    @Test
    void aTaskThatFailsOnceIsRerunAndTheRunIsBitIdentical() throws IOException {
        Run clean = run(Direction.BIDIRECTIONAL, 3, new SparkEngine(LocalSpark.context(), 2), tmp.resolve("clean"));
        SparkEngine faulty = new SparkEngine(LocalSpark.context(), 2).failFirstAttempt(1, 1);
        long before = SparkEngine.injectedFailures();
        Run failed = run(Direction.BIDIRECTIONAL, 3, faulty, tmp.resolve("failed"));
        assertEquals(before + 1, SparkEngine.injectedFailures(), "the first attempt failed, the second ran");
        assertArrayEquals(clean.model().params(), failed.model().params(), "parameters after a re-run task");
        assertArrayEquals(clean.opt().secondMoment(), failed.opt().secondMoment(), "AdamW state after a re-run task");
        assertEquals(clean.losses(), failed.losses());

        Run cleanLocal = run(Direction.CAUSAL, 4, new SparkEngine(LocalSpark.context(), 2).localSteps(2),
                tmp.resolve("clean-local"));
        Run failedLocal = run(Direction.CAUSAL, 4, new SparkEngine(LocalSpark.context(), 2).localSteps(2)
                .failFirstAttempt(3, 0), tmp.resolve("failed-local"));
        assertEquals(before + 2, SparkEngine.injectedFailures());
        assertArrayEquals(cleanLocal.model().params(), failedLocal.model().params(), "local SGD after a re-run task");
    }

    @Test
    void aResumedSparkRunContinuesExactly() throws IOException {
        Path dir = tmp.resolve("resume");
        Run whole = run(Direction.CAUSAL, 4, new SparkEngine(LocalSpark.context(), 2), dir);
        float[] end = whole.model().params().clone();
        Checkpoint.Loaded at2 = Checkpoint.load(Checkpoint.file(dir, 2), KERN);
        assertEquals("2", at2.metadata().get("spark.shards"), "the engine's settings are in the checkpoint");
        new Trainer(at2.model(), training(4), train, null, dir).optimizer(at2.optimizer())
                .engine(new SparkEngine(LocalSpark.context(), 2)).run(2, new Trainer.Listener() {});
        assertArrayEquals(end, at2.model().params(), "resumed from step 2");
        assertArrayEquals(end, Checkpoint.load(Checkpoint.file(dir, 4), KERN).model().params());
    }

    @Test
    void localSgdWithOneShardIsPlainTrainingAndWithTwoItLearns() throws IOException {
        Run sync = run(Direction.BIDIRECTIONAL, 4, new SparkEngine(LocalSpark.context(), 1), tmp.resolve("sync1"));
        Run local = run(Direction.BIDIRECTIONAL, 4, new SparkEngine(LocalSpark.context(), 1).localSteps(2),
                tmp.resolve("local1"));
        // one shard: averaging one copy changes nothing, and the gradient's (g x n) / n is exact in double
        assertArrayEquals(sync.model().params(), local.model().params());
        assertEquals(sync.losses(), local.losses());

        Run two = run(Direction.BIDIRECTIONAL, 8, new SparkEngine(LocalSpark.context(), 2).localSteps(4),
                tmp.resolve("local2"));
        assertEquals(8, two.losses().size(), "a log row per step");
        assertEquals(8, two.opt().steps(), "the moments' update count advances by K per round");
        float first = two.losses().get(0), last = two.losses().get(7);
        assertTrue(last < first, "local SGD lowers the loss: " + two.losses());
    }
}
