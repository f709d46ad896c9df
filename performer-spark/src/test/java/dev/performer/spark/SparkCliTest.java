package dev.performer.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** performer spark ...: outputs equal the single-machine commands'; mistakes are one line and exit code 2. */
class SparkCliTest {

    @TempDir static Path tmp;
    static Path model, fasta;

    record Result(int code, String out, String err) {}

    static Result spark(String... args) {
        LocalSpark.get();   // the tests' session: the commands find it active
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = SparkMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void trainOnSpark() {
        model = tmp.resolve("run");
        fasta = LocalSpark.sample("swissprot2014_sample_heldout.fasta");
        Result r = spark("train", "--steps", "3", "--L", "64", "--batch", "4", "--width", "32", "--ffn", "64",
                "--features", "16", "--direction", "causal", "--shards", "2", "--run", model.toString(),
                "--threads", "1");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void scoresAndEmbeddingsEqualTheSingleMachineCommands() throws IOException {
        Path tsv = tmp.resolve("s.tsv");
        assertEquals(0, spark("score", "--checkpoint", model.toString(), "--data", fasta.toString(), "--out",
                tsv.toString(), "--partitions", "3").code());
        assertEquals(TransformersTest.cli("score", "--checkpoint", model.toString(), "--data", fasta.toString(),
                "--threads", "1"), Files.readString(tsv), "the same TSV, in input order");
        Path pq = tmp.resolve("e.parquet");
        Result r = spark("embed", "--checkpoint", model.toString(), "--data", fasta.toString(), "--out", pq.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(600, LocalSpark.get().read().parquet(pq.toString()).count());
        assertTrue(r.out().contains("embeddings of 600 records"), r.out());
    }

    @Test
    void mistakesAreOneLineWithExitCodeTwo() throws IOException {
        Path bad = tmp.resolve("bad.fasta");
        Files.writeString(bad, ">a\nAC1D\n");
        String[][] cases = {
            {"--out must end with .npy or .parquet", "embed", "--checkpoint", model.toString(), "--data",
                fasta.toString(), "--out", tmp.resolve("e.csv").toString()},
            {"nope", "embed", "--checkpoint", tmp.resolve("nope").toString(), "--data", fasta.toString(), "--out",
                tmp.resolve("e.npy").toString()},
            {"record a has '1' at residue 3", "score", "--checkpoint", model.toString(), "--data", bad.toString(),
                "--out", tmp.resolve("x.tsv").toString(), "--unknown", "fail"},
            {"the batch 8 must split into 3 shards", "train", "--steps", "1", "--L", "64", "--shards", "3", "--run",
                tmp.resolve("r3").toString()},
            {"--data: " + tmp.resolve("none.fasta") + ": no such file or folder", "embed", "--checkpoint",
                model.toString(), "--data", tmp.resolve("none.fasta").toString(), "--out",
                tmp.resolve("e.npy").toString()},
            {"matches 0 files", "embed", "--checkpoint", model.toString(), "--data",
                tmp.resolve("none*.fasta").toString(), "--out", tmp.resolve("e.npy").toString()},
            {"unknown-residue policy must be x, skip or fail", "embed", "--checkpoint", model.toString(), "--data",
                fasta.toString(), "--out", tmp.resolve("e.npy").toString(), "--unknown", "drop"},
        };
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            Result r = spark(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
            String[] lines = r.err().strip().split("\n");
            String last = lines[lines.length - 1];
            assertTrue(last.startsWith("error: ") && last.contains(c[0]), r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
        assertEquals(2, spark().code(), "no command: the usage");
    }
}
