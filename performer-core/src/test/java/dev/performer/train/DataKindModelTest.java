package dev.performer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.attention.AttentionSpec;
import dev.performer.attention.FeatureKind;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Backend;
import dev.performer.kernel.Kernels;
import dev.performer.model.Direction;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.model.Sampler;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models of every data kind: bits per dimension, checkpoints that keep their kind, image generation. */
class DataKindModelTest {

    @TempDir
    Path tmp;

    static ModelConfig imageModel(int dims) {
        return ModelConfig.builder().tokenizer(Tokenizer.IMAGE).maxLen(dims).layers(1).width(16).heads(2).ffn(32)
                .attention(AttentionSpec.favor(FeatureKind.SOFTMAX, 8)).direction(Direction.CAUSAL).dropout(0f)
                .build();
    }

    static SequenceData images(int n, int dims, long seed) {
        SequenceData d = new SequenceData(Tokenizer.IMAGE);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            byte[] px = new byte[dims];
            for (int j = 0; j < dims; j++) px[j] = (byte) r.nextInt(256);
            d.add("img" + i, Tokenizer.IMAGE.encode(px));
        }
        return d;
    }

    @Test
    void uniformModelScoresLog2OfTheVocabularyBitsPerDimension() {
        // all weights zero: every hidden state is 0, LayerNorm(0) = 0, so every logit is 0 and each of the V = 261
        // tokens has probability 1/261: the NLL of every sub-pixel is ln 261 nats, log2 261 = 8.02791 bits
        int dims = 12;
        try (Kernels kern = Kernels.create(Backend.SCALAR)) {
            PerformerModel m = new PerformerModel(imageModel(dims), kern, 0);
            Arrays.fill(m.params(), 0f);
            Metrics e = Trainer.evaluate(m, images(5, dims, 1), new Batching(2, dims, SequenceData.Layout.PAD), 0);
            assertEquals(5L * dims, e.targets(), "every sub-pixel is a target, no <eos>");
            // float32 log-softmax of 261 equal logits: relative error a few ulps
            assertEquals(Math.log(261) / Math.log(2), e.bits(), 1e-5);
            assertEquals(8.027906, e.bits(), 1e-5);   // log2(261) by hand: 2^8 = 256, log2(261/256) = 0.027906
            assertEquals(e.loss() / Math.log(2), e.bits(), 1e-12);
        }
    }

    @Test
    void dataOfAnotherKindIsRefused() {
        try (Kernels kern = Kernels.create(Backend.SCALAR)) {
            PerformerModel m = new PerformerModel(imageModel(8), kern, 0);
            SequenceData proteins = new SequenceData(Tokenizer.PROTEIN);
            proteins.add("p", Tokenizer.PROTEIN.encode("MKV", Tokenizer.Unknown.MAP_TO_X));
            String msg = assertThrows(IllegalArgumentException.class, () -> Trainer.evaluate(m, proteins,
                    new Batching(1, 8, SequenceData.Layout.PAD), 0)).getMessage();
            assertTrue(msg.contains("protein data for an image model"), msg);
        }
    }

    @Test
    void checkpointsKeepTheirKindAndFormat2ReadsAsProtein() throws IOException {
        try (Kernels kern = Kernels.create(Backend.SCALAR)) {
            for (Tokenizer tk : Tokenizer.values()) {
                ModelConfig cfg = imageModel(16).toBuilder().tokenizer(tk).build();
                PerformerModel m = new PerformerModel(cfg, kern, 3);
                Path f = tmp.resolve(tk.id() + ".safetensors");
                Checkpoint.save(f, m, null, 7, null, Map.of());
                Checkpoint.Loaded ld = Checkpoint.load(f, kern);
                assertEquals(tk, ld.model().config().tokenizer());
                assertEquals(cfg, ld.model().config());
                assertEquals(tk.describe(), ld.metadata().get("tokenizer"));
            }
            // a checkpoint of the previous format (protein models only, no model.tokenizer) still loads
            PerformerModel m = new PerformerModel(imageModel(16).toBuilder().tokenizer(Tokenizer.PROTEIN).build(),
                    kern, 3);
            Path f = tmp.resolve("v3.safetensors"), old = tmp.resolve("v2.safetensors");
            Checkpoint.save(f, m, null, 7, null, Map.of());
            SafeTensors.Contents c = SafeTensors.read(f);
            Map<String, String> meta = new LinkedHashMap<>(c.metadata());
            meta.remove("model.tokenizer");
            meta.put("format", "performer-jvm/2");
            List<SafeTensors.Tensor> ts = new ArrayList<>();
            for (var e : c.tensors().entrySet())
                ts.add(new SafeTensors.Tensor(e.getKey(), c.shapes().get(e.getKey()), e.getValue(), 0));
            SafeTensors.write(old, meta, ts);
            Checkpoint.Loaded ld = Checkpoint.load(old, kern);
            assertEquals(Tokenizer.PROTEIN, ld.model().config().tokenizer());
            assertTrue(Arrays.equals(m.params(), ld.model().params()));
        }
    }

    @Test
    void imageGenerationMakesWholeImagesOfPixelsAndCompletionsKeepTheirPrompts() {
        int dims = 10;
        try (Kernels kern = Kernels.create(Backend.SCALAR)) {
            PerformerModel m = new PerformerModel(imageModel(dims), kern, 5);
            SplittableRandom[] r = {new SplittableRandom(1), new SplittableRandom(2)};
            int[][] gen = m.generate(new int[2][0], dims, new Sampler(1, 0, 1), r);
            for (int[] g : gen) {
                assertEquals(dims, g.length, "images never end early");
                for (int t : g) assertTrue(t >= Tokenizer.FIRST_SYMBOL && t < Tokenizer.IMAGE.vocabSize());
            }
            int[][] prompts = {Tokenizer.IMAGE.encode(new byte[]{1, 2, 3, 4}), Tokenizer.IMAGE.encode(new byte[]{9, 8,
                    7, 6})};
            int[][] done = m.generate(prompts, dims - 4, new Sampler(1, 0, 1),
                    new SplittableRandom[]{new SplittableRandom(1), new SplittableRandom(2)});
            assertEquals(dims - 4, done[0].length);
            // sample 1 of the pair equals sample 1 decoded alone with its own prompt and stream
            int[][] alone = m.generate(new int[][]{prompts[1]}, dims - 4, new Sampler(1, 0, 1),
                    new SplittableRandom[]{new SplittableRandom(2)});
            assertTrue(Arrays.equals(alone[0], done[1]));
            assertThrows(IllegalArgumentException.class, () -> m.generate(new int[][]{{5}, {5, 6}}, 1,
                    new Sampler(1, 0, 1), new SplittableRandom[]{new SplittableRandom(1), new SplittableRandom(2)}));
        }
    }
}
