package dev.performer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.attention.AttentionSpec;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import dev.performer.model.Direction;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.model.Positions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paper's baselines inside the model: Linformer (bidirectional, learned E and F per layer in the
 * model's parameters) and Reformer's LSH attention (causal here), built from their specifications,
 * trained, checkpointed and reloaded like every other attention.
 */
class BaselineModelTest {

    static final Kernels KERN = new VectorKernels(2);

    @AfterAll
    static void close() { KERN.close(); }

    @TempDir
    Path tmp;

    static ModelConfig config(AttentionSpec att, Direction dir) {
        return new ModelConfig(Tokenizer.PROTEIN, Tokenizer.PROTEIN.vocabSize(), 32, 2, 32, 2, 64, att, dir,
                Positions.LEARNED, 0.1f);
    }

    /** Trains 40 steps on the motif sequences; returns the first and the last training loss. */
    double[] trainMotifs(ModelConfig cfg, Path run) throws IOException {
        SequenceData data = TrainTest.motifs();
        TrainConfig tc = TrainConfig.builder().steps(40).batch(4).length(32).lr(3e-3f).warmup(5).evalEvery(20)
                .evalBatches(4).checkpointEvery(20).seed(11).build();
        new Trainer(new PerformerModel(cfg, KERN, 11), tc, data, data, run).run();
        List<TrainingLog.Row> rows = TrainingLog.read(TrainingLog.of(run)).stream().filter(TrainingLog.Row::isTrain)
                .toList();
        assertEquals(40, rows.size());
        return new double[]{rows.get(0).loss(), rows.get(39).loss()};
    }

    @Test
    void linformerLearnsAndItsProjectionsAreParametersThatRoundTrip() throws IOException {
        ModelConfig cfg = config(new AttentionSpec.Linformer(8, false), Direction.BIDIRECTIONAL);
        PerformerModel m = new PerformerModel(cfg, KERN, 1);
        assertArrayEquals(new int[]{1, 8, 32}, m.layout().get("h1.att.e").shape(), "E: (P = 1, k, maxLen)");
        assertArrayEquals(new int[]{2, 8, 32},
                new PerformerModel(config(new AttentionSpec.Linformer(8, true), Direction.BIDIRECTIONAL), KERN, 1)
                        .layout().get("h0.att.f").shape(), "headwise: P = H");
        // initialized from the spec (uniform ±1/√k), not left at zero
        var e = m.layout().get("h0.att.e");
        double bound = 1 / Math.sqrt(8), maxAbs = 0;
        for (int i = e.offset(); i < e.offset() + e.size(); i++) maxAbs = Math.max(maxAbs, Math.abs(m.params()[i]));
        assertTrue(maxAbs > 0.5 * bound && maxAbs <= bound, "E drawn from uniform(±1/√k): max |e| = " + maxAbs);

        Path run = tmp.resolve("linformer");
        double[] l = trainMotifs(cfg, run);
        // uniform guessing costs ln 30 = 3.4 nats; the masked motifs are predictable from their context
        assertTrue(l[1] < l[0] - 0.5, "masked-LM loss fell from " + l[0] + " to " + l[1]);
        Checkpoint.Loaded ld = Checkpoint.load(Checkpoint.latest(run).orElseThrow(), KERN);
        assertEquals(cfg, ld.model().config(), "the Linformer specification reads back from the metadata");
        PerformerModel again = ld.model();
        assertTrue(again.layout().has("h0.att.e") && again.layout().has("h0.att.f"));
        // the reloaded model computes what the saved parameters compute
        int[] tok = new int[32];
        for (int i = 0; i < 32; i++) tok[i] = Tokenizer.FIRST_SYMBOL + i % 20;
        PerformerModel copy = new PerformerModel(cfg, KERN, 5);
        System.arraycopy(again.params(), 0, copy.params(), 0, copy.params().length);
        assertEquals(again.forward(tok, tok, 1, 32, null, false, 0), copy.forward(tok, tok, 1, 32, null, false, 0), 0f);
    }

    @Test
    void reformerLearnsAsANextTokenModelAndHasNoDecoder() throws IOException {
        ModelConfig cfg = config(new AttentionSpec.Reformer(4, 2, 8), Direction.CAUSAL);
        double[] l = trainMotifs(cfg, tmp.resolve("reformer"));
        assertTrue(l[1] < l[0] - 0.5, "next-token loss fell from " + l[0] + " to " + l[1]);
        PerformerModel m = new PerformerModel(cfg, KERN, 1);
        assertThrows(IllegalStateException.class, m::decoder, "no recurrent form for LSH attention");
    }

    @Test
    void linformerCannotBeCausal() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> config(new AttentionSpec.Linformer(8, false), Direction.CAUSAL));
        assertTrue(e.getMessage().contains("linformer"), e.getMessage());
    }
}
