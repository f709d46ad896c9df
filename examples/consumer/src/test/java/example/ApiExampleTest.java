package example;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.data.ProteinData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.model.Sampler;
import dev.performer.train.AdamW;
import dev.performer.train.Checkpoint;
import dev.performer.train.TrainConfig;
import dev.performer.train.Trainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
        Files.copy(Path.of(System.getProperty("sample.fasta")), fasta);   // the CLI's bundled sample (see pom.xml)
        Trainer.Metrics m;
        int[] more;
        float[] emb;
        // README-BEGIN
        try (Kernels kern = Kernels.create("vector", 0)) {            // 0 = all cores; "scalar" is the reference
            // data: FASTA (plain or .gz); 5% held out by a seeded hash of the record id
            ProteinData train = new ProteinData(), valid = new ProteinData();
            ProteinData.readFiles(List.of(fasta), Tokenizer.Unknown.MAP_TO_X, train, valid, 0, 0.05, System.err);
            // vocab, max L, layers, width C, heads H, ffn F, attention, causal, M, orthogonal, positions, dropout
            ModelConfig cfg = new ModelConfig(Tokenizer.vocabSize(), 128, 2, 64, 4, 128, "favor-softmax", true, 32, true,
                    "rotary", 0.1f);
            PerformerModel model = new PerformerModel(cfg, kern, 0);
            // steps, batch, L, lr, warm-up, final lr fraction, beta1, beta2, eps, weight decay, clip,
            // redraw / eval / checkpoint periods, seed, layout, eval batches
            TrainConfig tc = new TrainConfig(60, 8, 128, 2e-3f, 6, 0.1f, 0.9f, 0.98f, 1e-8f, 0.01f, 1f,
                    20, 30, 30, 0, ProteinData.Layout.PAD, 10);
            new Trainer(model, new AdamW(model.layout()), tc, train, valid, runDir, Map.of()).run(0, new Trainer.Listener() {});
            m = Trainer.evaluate(model, valid, tc);                     // loss, accuracy, perplexity, targets
            // reload the last checkpoint (safetensors: weights, optimizer, projections, configuration)
            PerformerModel loaded = Checkpoint.load(Checkpoint.latest(runDir).orElseThrow(), kern).model();
            // generate: BOS + prompt, recurrent O(1)-state FAVOR+, nucleus sampling, stop at EOS
            int[] seq = Tokenizer.encode("MKTAYIAKQR", Tokenizer.Unknown.MAP_TO_X), prompt = new int[seq.length + 1];
            prompt[0] = Tokenizer.BOS;
            System.arraycopy(seq, 0, prompt, 1, seq.length);
            more = loaded.generate(prompt, 40, new Sampler(1.0, 0, 0.9), new SplittableRandom(1), Tokenizer.EOS);
            System.out.println("MKTAYIAKQR|" + Tokenizer.decode(more, 0, more.length));
            // embed: mean of the final representations over the given positions, (B, C)
            emb = loaded.embed(prompt, null, 1, prompt.length);
        }
        // README-END
        assertTrue(m.loss() < Math.log(Tokenizer.vocabSize()), "trained below the uniform loss: " + m.loss());
        assertTrue(more.length >= 1 && more.length <= 40);
        for (int t : more) assertTrue(t >= 0 && t < Tokenizer.vocabSize());
        assertEquals(64, emb.length);
        for (float x : emb) assertTrue(Float.isFinite(x));

        // the README shows exactly this code
        String src = Files.readString(Path.of("src/test/java/example/ApiExampleTest.java"), StandardCharsets.UTF_8);
        String body = src.substring(src.indexOf("// README-BEGIN\n") + "// README-BEGIN\n".length(), src.indexOf("        // README-END"));
        String dedented = body.lines().map(l -> l.startsWith("        ") ? l.substring(8) : l).reduce("", (a, b) -> a + b + "\n");
        String readme = Files.readString(Path.of("../../README.md"), StandardCharsets.UTF_8);
        assertTrue(readme.contains(dedented), "README.md's Java example differs from ApiExampleTest; paste:\n" + dedented);
    }
}
