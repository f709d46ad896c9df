package dev.performer.spark;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.data.FastaReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FastaFramesTest {

    @TempDir Path tmp;

    private static List<String[]> rows(Dataset<Row> d) {
        List<String[]> out = new ArrayList<>();
        for (Row r : d.collectAsList()) out.add(new String[]{r.getString(0), r.getString(1)});
        return out;
    }

    @Test
    void plainAndGzipFilesGiveTheRecordsTheCliReads() throws IOException {
        Path src = LocalSpark.sample("swissprot2014_sample_heldout.fasta");
        Path gz = tmp.resolve("heldout.fasta.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) { o.write(Files.readAllBytes(src)); }
        List<String[]> expected = new ArrayList<>();
        try (FastaReader r = FastaReader.open(src)) {
            while (r.hasNext()) {
                FastaReader.Record rec = r.next();
                expected.add(new String[]{rec.id(), rec.sequence()});
            }
        }
        for (Path p : List.of(src, gz)) {
            List<String[]> got = rows(FastaFrames.reader(LocalSpark.get()).read(p.toString()));
            assertEquals(expected.size(), got.size(), p.toString());
            for (int i = 0; i < got.size(); i++) assertArrayEquals(expected.get(i), got.get(i), p + " record " + i);
        }
    }

    @Test
    void unknownResiduesAreMappedSkippedAndCountedOrNamedInTheError() throws IOException {
        Path f = tmp.resolve("odd.fasta");
        Files.writeString(f, ">ok1 fine\nACDE\nFGH\n>bad1\nAC9DE\n>empty\n\n>ok2\nMKV\n", StandardCharsets.UTF_8);
        List<String[]> x = rows(FastaFrames.reader(LocalSpark.get()).read(f.toString()));
        assertEquals(List.of("ok1", "bad1", "ok2"), x.stream().map(r -> r[0]).toList(), "empty record skipped");
        assertEquals("ACDEFGH", x.get(0)[1]);

        FastaFrames.Reader skip = FastaFrames.reader(LocalSpark.get()).unknown(FastaFrames.Unknown.SKIP);
        assertEquals(List.of("ok1", "ok2"), rows(skip.read(f.toString())).stream().map(r -> r[0]).toList());
        assertEquals(2, skip.skipped(), "bad1 and the empty record, counted");

        Dataset<Row> strict = FastaFrames.reader(LocalSpark.get()).unknown(FastaFrames.Unknown.FAIL).read(f.toString());
        SparkException e = assertThrows(SparkException.class, strict::collectAsList);
        String msg = String.valueOf(rootMessage(e));
        assertTrue(msg.contains(f + ":4: record bad1 has '9' at residue 3"), msg);
    }

    @Test
    void aFileThatIsNotFastaFailsNamingTheFileAndLine() throws IOException {
        Files.writeString(tmp.resolve("a.fasta"), ">a\nACD\n", StandardCharsets.UTF_8);
        Path bad = tmp.resolve("b.fasta");
        Files.writeString(bad, "ACD\n>b\nACD\n", StandardCharsets.UTF_8);
        Dataset<Row> d = FastaFrames.reader(LocalSpark.get()).read(tmp.toString());
        SparkException e = assertThrows(SparkException.class, d::collectAsList);
        String msg = String.valueOf(rootMessage(e));
        assertTrue(msg.contains(bad + ":1: sequence text before the first '>' header"), msg);
    }

    @Test
    void policyNamesAreChecked() {
        assertEquals(FastaFrames.Unknown.SKIP, FastaFrames.Unknown.of("skip"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FastaFrames.Unknown.of("drop"));
        assertTrue(e.getMessage().contains("'drop'"), e.getMessage());
    }

    /** The message of the innermost cause (Spark wraps the task's exception). */
    static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage();
    }
}
