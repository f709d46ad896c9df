package example;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.attention.AttentionSpec;
import dev.performer.attention.FeatureKind;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Backend;
import dev.performer.kernel.Kernels;
import dev.performer.model.Direction;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.model.Positions;
import dev.performer.model.Sampler;
import dev.performer.train.Checkpoint;
import dev.performer.train.Metrics;
import dev.performer.train.TrainConfig;
import dev.performer.train.Trainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Java example, run: the code between the markers is the README's code block,
 * character for character (checked below), so the documented API compiles and works.
 */
class ApiExampleTest {

    @TempDir Path tmp;

    @Test
    void readmeExampleRunsAsWritten() throws Exception {
        Path fasta = tmp.resolve("proteins.fasta"), runDir = tmp.resolve("run");
        Files.copy(Path.of(System.getProperty("sample.fasta")), fasta);   // the CLI's bundled sample (pom.xml)
        Metrics m;
        String more;
        float[] emb;
        // README-BEGIN
        try (Kernels kern = Kernels.create(Backend.VECTOR)) {                 // all cores (SCALAR: the reference)
            SequenceData.Corpus data = SequenceData.load(List.of(fasta), 0.05, 0); // 5% held out by id hash
            ModelConfig cfg = ModelConfig.builder().maxLen(128).width(64).heads(4).ffn(128)
                    .attention(AttentionSpec.favor(FeatureKind.SOFTMAX, 32).withRedrawEvery(20))
                    .direction(Direction.CAUSAL).positions(Positions.ROTARY).build();
            TrainConfig tc = TrainConfig.builder().steps(60).batch(8).length(128).lr(2e-3f)
                    .evalEvery(30).evalBatches(10).build();
            PerformerModel model = new PerformerModel(cfg, kern, 0);
            new Trainer(model, tc, data.train(), data.valid(), runDir).run(); // log.csv, checkpoints
            m = Trainer.evaluate(model, data.valid(), tc.batching(), 10);     // loss, accuracy, perplexity
            PerformerModel loaded = Checkpoint.load(Checkpoint.latest(runDir).orElseThrow(), kern).model();
            more = loaded.generate("MKTAYIAKQR", 40, new Sampler(1.0, 0, 0.9), new SplittableRandom(1));
            emb = loaded.embed("MKTAYIAKQR");                                 // mean-pooled, (C)
        }
        // README-END
        assertTrue(m.loss() < Math.log(Tokenizer.PROTEIN.vocabSize()), "trained below the uniform loss: " + m.loss());
        assertTrue(more.length() <= 40, more);
        assertEquals(-1, Tokenizer.PROTEIN.firstUnknown(more), "residue letters only: " + more);
        assertEquals(64, emb.length);
        for (float x : emb) assertTrue(Float.isFinite(x));

        // the README shows exactly this code
        String src = Files.readString(Path.of("src/test/java/example/ApiExampleTest.java"), StandardCharsets.UTF_8);
        String body = src.substring(src.indexOf("// README-BEGIN\n") + "// README-BEGIN\n".length(),
                src.indexOf("        // README-END"));
        String dedented = body.lines().map(l -> l.startsWith("        ") ? l.substring(8) : l)
                .reduce("", (a, b) -> a + b + "\n");
        String readme = Files.readString(Path.of("../../README.md"), StandardCharsets.UTF_8);
        assertTrue(readme.contains(dedented), "README.md's Java example differs from ApiExampleTest; paste:\n"
                + dedented);
    }
}
