package dev.performer.model;

import dev.performer.data.Tokenizer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.attention.AttentionSpec;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import dev.performer.random.Seeds;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The batched decoder advances N sequences as N single decoders would, split by rows or by heads:
 * the same probabilities bit for bit (few-row products sum each row as one row alone, and a column
 * part of a product as the whole product), the same samples from the same per-sample streams.
 */
class BatchDecoderTest {

    static final Kernels KERN = new VectorKernels(2);
    static final int V = 30;

    @AfterAll
    static void close() { KERN.close(); }

    static PerformerModel model(String att, String pos, Direction dir, int maxLen) {
        ModelConfig cfg = new ModelConfig(Tokenizer.PROTEIN, V, maxLen, 2, 32, 4, 64, AttentionSpec.of(att, 16), dir,
                Positions.of(pos), 0f);
        PerformerModel m = new PerformerModel(cfg, KERN, 3);
        SplittableRandom r = new SplittableRandom(1);
        float[] p = m.params();
        for (int i = 0; i < p.length; i++) p[i] += (float) (0.05 * r.nextGaussian());
        return m;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"favor-softmax,learned,ROWS", "exact,learned,ROWS", "identity,learned,ROWS",
            "favor-softmax,rotary,ROWS", "exact,rotary,ROWS", "identity,rotary,ROWS",
            "favor-softmax,learned,HEADS", "exact,learned,HEADS", "identity,learned,HEADS",
            "favor-softmax,rotary,HEADS", "exact,rotary,HEADS", "identity,rotary,HEADS"})
    void batchMatchesSingleDecoders(String att, String pos, DecodeSplit split) {
        int n = 3, steps = 30;
        PerformerModel m = model(att, pos, Direction.CAUSAL, 40);
        SplittableRandom r = new SplittableRandom(7);
        int[][] tok = new int[n][steps];
        for (int[] row : tok) for (int t = 0; t < steps; t++) row[t] = r.nextInt(V);
        PerformerModel.BatchDecoder batch = m.decoder(n, split);
        assertEquals(split, batch.split());
        PerformerModel.Decoder[] single = new PerformerModel.Decoder[n];
        for (int i = 0; i < n; i++) single[i] = m.decoder();
        assertEquals(n, batch.size());
        int[] in = new int[n];
        for (int t = 0; t < steps; t++) {
            for (int i = 0; i < n; i++) in[i] = tok[i][t];
            float[] pb = batch.step(in);
            assertEquals(n * V, pb.length);
            for (int i = 0; i < n; i++)
                assertArrayEquals(single[i].step(tok[i][t]), java.util.Arrays.copyOfRange(pb, i * V, (i + 1) * V),
                        att + " " + pos + " " + split + ": sequence " + i + " step " + t);
        }
        assertEquals(steps, batch.position());
        long one = 0;
        for (PerformerModel.Decoder d : single) one += d.stateFloats();
        assertEquals(one, batch.stateFloats(), "one attention state per sequence");
    }

    /**
     * Awkward splits, against the rows split bit for bit: 3 heads over 2 parts (2 + 1), 1 head (the
     * second part has no heads, only columns), width 48 (C parts 32 + 16), 2 rows and 5.
     */
    @ParameterizedTest(name = "heads {0} width {1} rows {2}")
    @CsvSource({"3,48,2", "3,48,5", "1,32,1", "1,32,4", "2,64,3"})
    void headsSplitEqualsRowsSplitOnAwkwardShapes(int heads, int width, int n) {
        ModelConfig cfg = new ModelConfig(Tokenizer.PROTEIN, V, 32, 2, width, heads, 80,
                AttentionSpec.of("favor-softmax", 16), Direction.CAUSAL, Positions.ROTARY, 0f);
        PerformerModel m = new PerformerModel(cfg, KERN, 9);
        PerformerModel.BatchDecoder rows = m.decoder(n, DecodeSplit.ROWS), split = m.decoder(n, DecodeSplit.HEADS);
        int[] in = new int[n];
        for (int t = 0; t < 20; t++) {
            for (int i = 0; i < n; i++) in[i] = Tokenizer.FIRST_SYMBOL + (7 * t + 5 * i) % 20;
            assertArrayEquals(rows.step(in).clone(), split.step(in), "step " + t);
        }
        assertEquals(rows.stateFloats(), split.stateFloats());
    }

    /** AUTO: split by heads with fewer sequences than threads, by rows otherwise (and always on one thread). */
    @Test
    void autoSplitsByHeadsOnlyWithFewerSequencesThanThreads() {
        PerformerModel two = model("favor-softmax", "rotary", Direction.CAUSAL, 40);
        assertEquals(DecodeSplit.HEADS, two.decoder(1).split());
        assertEquals(DecodeSplit.ROWS, two.decoder(2).split());
        assertEquals(DecodeSplit.ROWS, two.decoder(4).split());
        try (Kernels one = new VectorKernels(1)) {
            ModelConfig cfg = new ModelConfig(Tokenizer.PROTEIN, V, 40, 2, 32, 4, 64, AttentionSpec.of("favor-softmax",
                    16), Direction.CAUSAL, Positions.ROTARY, 0f);
            assertEquals(DecodeSplit.ROWS, new PerformerModel(cfg, one, 3).decoder(1).split());
        }
        assertThrows(IllegalArgumentException.class,
                () -> model("favor-softmax", "rotary", Direction.CAUSAL, 40).decoder(2, null));
    }

    /**
     * Width 512: one sequence's 512×1536 and 512×2048 products pass VectorKernels.ROW_PARALLEL_FLOPS and split
     * their columns over the two threads, while the batch's groups run theirs whole: the same probabilities.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"ROWS", "HEADS"})
    void wideModelBatchMatchesSingleDecoders(DecodeSplit split) {
        ModelConfig cfg = new ModelConfig(Tokenizer.PROTEIN, V, 16, 1, 512, 8, 2048, AttentionSpec.of("favor-softmax",
                16), Direction.CAUSAL, Positions.ROTARY, 0f);
        PerformerModel m = new PerformerModel(cfg, KERN, 5);
        int n = 3, steps = 6;
        PerformerModel.BatchDecoder batch = m.decoder(n, split);
        PerformerModel.Decoder[] single = new PerformerModel.Decoder[n];
        for (int i = 0; i < n; i++) single[i] = m.decoder();
        int[] in = new int[n];
        for (int t = 0; t < steps; t++) {
            for (int i = 0; i < n; i++) in[i] = Tokenizer.FIRST_SYMBOL + (5 * t + 3 * i) % 20;
            float[] pb = batch.step(in);
            for (int i = 0; i < n; i++)
                assertArrayEquals(single[i].step(in[i]), java.util.Arrays.copyOfRange(pb, i * V, (i + 1) * V),
                        "wide model " + split + ": sequence " + i + " step " + t);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ROWS", "HEADS"})
    void oneSequenceBatchIsTheDecoder(DecodeSplit split) {
        PerformerModel m = model("favor-softmax", "learned", Direction.CAUSAL, 40);
        PerformerModel.BatchDecoder batch = m.decoder(1, split);
        PerformerModel.Decoder dec = m.decoder();
        SplittableRandom r = new SplittableRandom(3);
        for (int t = 0; t < 20; t++) {
            int tok = r.nextInt(V);
            assertArrayEquals(dec.step(tok).clone(), batch.step(new int[] {tok}), "bit for bit at step " + t);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"favor-softmax", "exact"})
    void batchedGenerationEqualsOneAtATime(String att) {
        PerformerModel m = model(att, "rotary", Direction.CAUSAL, 64);
        Sampler sampler = new Sampler(1.0, 0, 1.0);
        String prompt = "MKVLAAG";
        List<String> batched = m.generate(prompt, 40, 4, sampler, new SplittableRandom(11));
        long base = new SplittableRandom(11).nextLong();
        List<String> single = new ArrayList<>();
        for (int i = 0; i < 4; i++)
            single.add(m.generate(prompt, 40, sampler, new SplittableRandom(Seeds.nth(base, i))));
        assertEquals(single, batched);
        // sample i does not depend on how many are drawn
        assertEquals(batched.subList(0, 2), m.generate(prompt, 40, 2, sampler, new SplittableRandom(11)));
        assertEquals(4, batched.size());
        assertTrue(batched.stream().distinct().count() > 1, "samples from different streams differ: " + batched);
    }

    @Test
    void bidirectionalModelsRefuse() {
        PerformerModel m = model("favor-softmax", "learned", Direction.BIDIRECTIONAL, 40);
        assertThrows(IllegalStateException.class, () -> m.decoder(3));
        assertThrows(IllegalStateException.class, m::decoder);
        assertThrows(IllegalArgumentException.class, () -> model("exact", "learned", Direction.CAUSAL, 40)
                .decoder(2).step(new int[3]));
    }
}
