package dev.performer.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.attention.AttentionSpec;
import dev.performer.attention.FeatureKind;
import dev.performer.attention.Projection;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import dev.performer.model.Direction;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.model.Positions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainTest {

    static final Kernels KERN = new VectorKernels(2);

    @AfterAll
    static void close() { KERN.close(); }

    @TempDir
    Path tmp;

    @Test
    void adamWMatchesItsDefinitionInDouble() {
        ModelConfig cfg = new ModelConfig(Tokenizer.PROTEIN, 7, 4, 1, 4, 1, 4, AttentionSpec.identity(),
                Direction.CAUSAL,
                Positions.LEARNED, 0f);
        PerformerModel m = new PerformerModel(cfg, KERN, 1);
        AdamW opt = new AdamW(m.layout(), new AdamW.Config(0.01f, 0.9f, 0.98f, 1e-8f, 0.1f));
        float[] p = m.params().clone(), g = new float[p.length];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        double[] pd = new double[p.length], md = new double[p.length], vd = new double[p.length];
        for (int i = 0; i < p.length; i++) pd[i] = p[i];
        int biasAt = m.layout().offset("h0.qkv.b");
        for (int t = 1; t <= 5; t++) {
            for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();
            opt.step(p, g, 0.01f);
            for (int i = 0; i < p.length; i++) {
                md[i] = 0.9 * md[i] + 0.1 * g[i];
                vd[i] = 0.98 * vd[i] + 0.02 * g[i] * (double) g[i];
                double mh = md[i] / (1 - Math.pow(0.9, t)), vh = vd[i] / (1 - Math.pow(0.98, t));
                double wd = isDecayed(m, i) ? 0.1 : 0;
                pd[i] -= 0.01 * (mh / (Math.sqrt(vh) + 1e-8) + wd * pd[i]);
            }
        }
        for (int i = 0; i < p.length; i++) assertEquals(pd[i], p[i], 1e-5 * (1 + Math.abs(pd[i])),
                "parameter " + i); // float state vs double: 5 steps of ~1e-7 rounding
        assertNotEquals(0.0, pd[biasAt] - m.params()[biasAt], "biases move too (without decay)");
    }

    static boolean isDecayed(PerformerModel m, int i) {
        for (var v : m.layout().views())
            if (i >= v.offset() && i < v.offset() + v.size())
                return v.name().endsWith(".w") || v.name().equals("wte") || v.name().equals("wpe");
        throw new IllegalStateException();
    }

    @Test
    void learningRateWarmsUpThenDecaysToItsFloor() {
        TrainConfig tc = config(100, 10);
        assertEquals(1e-3f / 10, tc.learningRate(0), 1e-9);
        assertEquals(1e-3f, tc.learningRate(9), 1e-9);
        assertEquals(1e-4f, tc.learningRate(99), 1e-9);
        for (int s = 10; s < 99; s++) assertTrue(tc.learningRate(s + 1) <= tc.learningRate(s));
    }

    @Test
    void clippingScalesToTheNorm() {
        float[] g = {3, 4};
        assertEquals(5.0, Trainer.clip(g, 1f), 1e-12);
        assertArrayEquals(new float[]{0.6f, 0.8f}, g, 1e-7f);
        float[] h = {0.3f, 0.4f};
        Trainer.clip(h, 1f);
        assertArrayEquals(new float[]{0.3f, 0.4f}, h);
    }

    static TrainConfig config(int steps, int warmup) {
        return TrainConfig.builder().steps(steps).batch(4).length(32).lr(1e-3f).warmup(warmup).seed(11).build();
    }

    static SequenceData motifs() {
        // sequences built from a few repeated motifs: learnable in a few dozen steps
        SequenceData d = new SequenceData();
        String[] motifs = {"MKVLAAG", "WYHHPQ", "CDEFGIK"};
        java.util.SplittableRandom r = new java.util.SplittableRandom(4);
        for (int i = 0; i < 64; i++) {
            StringBuilder sb = new StringBuilder();
            while (sb.length() < 40) sb.append(motifs[r.nextInt(3)]);
            d.add("M" + i, Tokenizer.PROTEIN.encode(sb, Tokenizer.Unknown.MAP_TO_X));
        }
        return d;
    }

    static final Trainer.Listener QUIET = new Trainer.Listener() {
        public void step(int s, float l, double a, float lr, double g, double t) {}
        public void evaluated(int s, Metrics m) {}
        public void saved(int s, Path f) {}
    };

    static List<String> trainLosses(Path run) throws IOException {
        return TrainingLog.read(TrainingLog.of(run)).stream().filter(TrainingLog.Row::isTrain)
                .map(r -> String.valueOf(r.loss())).toList();
    }

    @Test
    void trainingLearnsIsDeterministicAndResumesExactly() throws IOException {
        // FAVOR+ projections redrawn every 15 steps: the resumed run (from step 20) must redraw at 30 as the
        // original did
        ModelConfig cfg = new ModelConfig(Tokenizer.PROTEIN, Tokenizer.PROTEIN.vocabSize(), 32, 2, 32, 2, 64,
                AttentionSpec.favor(FeatureKind.SOFTMAX, 16).withRedrawEvery(15), Direction.CAUSAL,
                Positions.LEARNED, 0.1f);
        SequenceData data = motifs();
        TrainConfig tc = TrainConfig.builder().steps(40).batch(4).length(32).lr(3e-3f).warmup(5).evalEvery(20)
                .evalBatches(4).checkpointEvery(20).seed(11).build();
        Path a = tmp.resolve("a"), b = tmp.resolve("b"), c = tmp.resolve("c");
        PerformerModel ma = new PerformerModel(cfg, KERN, 11);
        new Trainer(ma, tc, data, data, a).run(0, QUIET);
        PerformerModel mb = new PerformerModel(cfg, KERN, 11);
        new Trainer(mb, tc, data, data, b).run();
        List<String> la = trainLosses(a), lb = trainLosses(b);
        assertEquals(40, la.size());
        assertEquals(la, lb, "same seed and threads: the same losses");
        double first = Double.parseDouble(la.get(0)), last = Double.parseDouble(la.get(39));
        // uniform guessing over 30 tokens costs ln 30 = 3.4 nats; the motifs are predictable
        assertTrue(last < first - 1.0, "loss fell from " + first + " to " + last);
        // resume from the step-20 checkpoint in a fresh process-like setting: same losses and parameters
        Files.createDirectories(c);
        Files.copy(Checkpoint.file(a, 20), Checkpoint.file(c, 20));
        Files.copy(a.resolve("log.csv"), c.resolve("log.csv"));
        Checkpoint.Loaded ld = Checkpoint.load(Checkpoint.latest(c).orElseThrow(), KERN);
        assertEquals(20, ld.step());
        assertEquals(tc, ld.training().orElseThrow(), "the checkpoint carries the training configuration");
        new Trainer(ld.model(), tc, data, data, c).optimizer(ld.optimizer()).run(ld.step(), QUIET);
        assertEquals(la, trainLosses(c), "a resumed run continues exactly");
        assertArrayEquals(ma.params(), ld.model().params());
        for (int l = 0; l < cfg.layers(); l++) assertArrayEquals(ma.projection(l), ld.model().projection(l));
    }

    @Test
    void evaluationMetricsDoNotDependOnTheBatchSize() {
        // 9 records: batch 4 leaves 3 padding rows in the last batch, batch 1 none
        SequenceData data = new SequenceData(), all = motifs();
        for (int i = 0; i < 9; i++) data.add(all.id(i), all.sequence(i));
        for (String att : new String[]{"exact", "favor-softmax"})
            for (boolean causal : new boolean[]{false, true}) {
                ModelConfig cfg = new ModelConfig(Tokenizer.PROTEIN, Tokenizer.PROTEIN.vocabSize(), 48, 1, 16, 2, 32,
                        AttentionSpec.of(att, 8),
                        (causal ? Direction.CAUSAL : Direction.BIDIRECTIONAL), Positions.LEARNED, 0f);
                PerformerModel m = new PerformerModel(cfg, KERN, 2);
                Metrics[] ms = new Metrics[2];
                int[] batches = {1, 4};
                for (int i = 0; i < 2; i++)
                    ms[i] = Trainer.evaluate(m, data, new Batching(batches[i], 48, SequenceData.Layout.PAD), 0);
                assertEquals(ms[0].targets(), ms[1].targets(), "padding rows hold no targets");
                // the same rows in other GEMM blockings: float rounding only (~1e-7 relative)
                assertEquals(ms[0].loss(), ms[1].loss(), 1e-5 * ms[0].loss(), att + " causal=" + causal);
                assertEquals(ms[0].accuracy(), ms[1].accuracy(), 1e-12, att + " causal=" + causal);
            }
        List<SequenceData.Batch> batches = data.evaluationBatches(4, 48, SequenceData.Layout.PAD, true, 1);
        assertEquals(3, batches.size(), "9 records in batches of 4");
        for (SequenceData.Batch bt : batches) assertEquals(4, bt.batch());
    }

    @Test
    void checkpointRoundTripsParametersProjectionsAndMetadata() throws IOException {
        ModelConfig cfg = new ModelConfig(Tokenizer.PROTEIN, Tokenizer.PROTEIN.vocabSize(), 16, 1, 16, 2, 32,
                AttentionSpec.favor(FeatureKind.RELU, 8).withProjection(Projection.Type.IID),
                Direction.BIDIRECTIONAL, Positions.SINUSOIDAL, 0f);
        PerformerModel m = new PerformerModel(cfg, KERN, 5);
        AdamW opt = new AdamW(m.layout(), AdamW.Config.defaults().withWeightDecay(0f));
        opt.step(m.params(), m.params().clone(), 1e-3f);
        Path f = tmp.resolve("x.safetensors");
        TrainConfig tc = TrainConfig.builder().steps(9).length(16).build();
        Checkpoint.save(f, m, opt, 7, tc, Map.of("data", "motifs"));
        Checkpoint.Loaded ld = Checkpoint.load(f, KERN);
        assertEquals(cfg, ld.model().config());
        assertArrayEquals(m.params(), ld.model().params());
        assertArrayEquals(m.projection(0), ld.model().projection(0));
        assertArrayEquals(opt.m, ld.optimizer().m);
        assertEquals(1, ld.optimizer().steps());
        assertEquals(opt.config(), ld.optimizer().config());
        assertEquals(tc, ld.training().orElseThrow());
        assertEquals("motifs", ld.metadata().get("data"));
        assertEquals(7, ld.step());
        // the header is plain safetensors: 8-byte length, then JSON starting with '{'
        byte[] raw = Files.readAllBytes(f);
        long hl = java.nio.ByteBuffer.wrap(raw, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals('{', raw[8]);
        assertEquals(0, (8 + hl) % 8, "data aligned to 8 bytes");
        Files.write(tmp.resolve("bad.safetensors"), new byte[]{1, 2, 3});
        assertThrows(IOException.class, () -> Checkpoint.load(tmp.resolve("bad.safetensors"), KERN));
    }
}
