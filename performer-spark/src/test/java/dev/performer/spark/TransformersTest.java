package dev.performer.spark;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.cli.Main;
import dev.performer.io.Npy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedder and the scorer against the single-machine commands, on the bundled held-out sample. */
class TransformersTest {

    @TempDir static Path tmp;
    static Path bidir, causal, fasta;

    static String cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, rc, () -> String.join(" ", args) + "\n" + err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @BeforeAll
    static void models() throws IOException {
        // the first 40 held-out records (some longer than L = 64: clipping is covered)
        List<String> lines = Files.readAllLines(LocalSpark.sample("swissprot2014_sample_heldout.fasta"));
        StringBuilder sb = new StringBuilder();
        int records = 0;
        for (String line : lines) {
            if (line.startsWith(">") && ++records > 40) break;
            sb.append(line).append('\n');
        }
        fasta = tmp.resolve("forty.fasta");
        Files.writeString(fasta, sb.toString());
        bidir = tmp.resolve("bidir");
        causal = tmp.resolve("causal");
        cli("train", "--steps", "4", "--L", "64", "--batch", "4", "--width", "32", "--ffn", "64", "--features", "16",
                "--run", bidir.toString(), "--threads", "1");
        cli("train", "--steps", "4", "--L", "64", "--batch", "4", "--width", "32", "--ffn", "64", "--features", "16",
                "--direction", "causal", "--run", causal.toString(), "--threads", "1");
    }

    private static Dataset<Row> proteins(int partitions) {
        return FastaFrames.reader(LocalSpark.get()).read(fasta.toString()).repartition(partitions);
    }

    @Test
    void embeddingsEqualThoseOfPerformerEmbed() throws IOException {
        Path npy = tmp.resolve("emb.npy");
        cli("embed", "--checkpoint", bidir.toString(), "--data", fasta.toString(), "--out", npy.toString(),
                "--threads", "1");
        Npy.Array want = Npy.read(npy);
        List<String> ids = Files.readAllLines(tmp.resolve("emb.ids.txt"));
        long built = ExecutorModels.built();
        List<Row> got = new PerformerEmbedder().setCheckpoint(bidir.toString()).setBatchSize(8)
                .transform(proteins(4)).collectAsList();
        assertTrue(ExecutorModels.built() - built <= 2,
                "one model per concurrent task slot (2), not per task (4) or row: " + (ExecutorModels.built() - built));
        assertEquals(ids.size(), got.size());
        int c = want.shape()[1];
        Map<String, Integer> at = new HashMap<>();
        for (int i = 0; i < ids.size(); i++) at.put(ids.get(i), i);
        for (Row r : got) {
            int i = at.get(r.getString(0));
            List<Float> e = r.getList(2);
            assertEquals(c, e.size());
            // same kernels, same batch composition is not guaranteed (rows are regrouped by partition):
            // each row's result does not depend on the other rows of its batch, so it is bit-equal
            for (int j = 0; j < c; j++)
                assertEquals(want.data()[i * c + j], (double) e.get(j), 0.0, "record " + ids.get(i) + " dim " + j);
        }
    }

    private static Map<String, double[]> tsv(String text) {
        Map<String, double[]> m = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("id\t") || line.isBlank()) continue;
            String[] f = line.split("\t");
            m.put(f[0], new double[]{Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3])});
        }
        return m;
    }

    @Test
    void scoresEqualThoseOfPerformerScoreForCausalAndMaskedModels() {
        for (Path model : List.of(causal, bidir)) {
            Map<String, double[]> want = tsv(cli("score", "--checkpoint", model.toString(), "--data", fasta.toString(),
                    "--threads", "1"));
            List<Row> got = new PerformerScorer().setCheckpoint(model.toString()).transform(proteins(3))
                    .collectAsList();
            assertEquals(want.size(), got.size());
            for (Row r : got) {
                double[] w = want.get(r.getString(0));
                assertEquals((int) w[0], r.getInt(3), "tokens of " + r.getString(0));
                // the TSV prints 6 decimals
                assertEquals(w[1], r.getDouble(2), 1e-6, "log-likelihood of " + r.getString(0));
                assertEquals(w[2], r.getDouble(4), 1e-6 * w[2], "perplexity of " + r.getString(0));
                assertTrue(r.getDouble(2) < 0);
            }
        }
    }

    @Test
    void bothWorkInAPipelineThatIsSavedAndLoaded() throws IOException {
        Pipeline p = new Pipeline().setStages(new PipelineStage[]{
            new PerformerEmbedder().setCheckpoint(bidir.toString()).setOutputCol("vec"),
            new PerformerScorer().setCheckpoint(bidir.toString()).setLogLikelihoodCol("pll")});
        Dataset<Row> in = proteins(2);
        PipelineModel fitted = p.fit(in);
        Path saved = tmp.resolve("pipeline");
        fitted.write().overwrite().save(saved.toString());
        List<Row> a = fitted.transform(in).orderBy("id").collectAsList();
        List<Row> b = PipelineModel.load(saved.toString()).transform(in).orderBy("id").collectAsList();
        assertEquals(List.of("id", "sequence", "vec", "pll", "tokens", "perplexity"),
                List.of(fitted.transform(in).columns()));
        assertEquals(a, b);
    }

    @Test
    void badInputIsNamed() {
        Dataset<Row> in = LocalSpark.get().createDataFrame(List.of(
                org.apache.spark.sql.RowFactory.create("p1", "ACDE"), org.apache.spark.sql.RowFactory.create("p2",
                        "AC1DE")), FastaFrames.SCHEMA);
        PerformerEmbedder strict = new PerformerEmbedder().setCheckpoint(bidir.toString()).setUnknown("fail");
        Exception e = assertThrows(Exception.class, () -> strict.transform(in).collectAsList());
        String msg = FastaFramesTest.rootMessage(e);
        assertTrue(msg.contains("row p2 has '1' at residue 3"), msg);
        IllegalArgumentException col = assertThrows(IllegalArgumentException.class,
                () -> new PerformerEmbedder().setCheckpoint(bidir.toString()).setInputCol("seq").transform(in));
        assertTrue(col.getMessage().contains("no column 'seq'"), col.getMessage());
        Exception missing = assertThrows(Exception.class,
                () -> new PerformerEmbedder().setCheckpoint(tmp.resolve("nope").toString()).transform(in));
        assertTrue(String.valueOf(missing.getMessage()).contains("nope"), missing.getMessage());
    }
}
