package dev.performer.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataTest {

    @TempDir
    Path tmp;

    static final String FASTA = ">P1 first protein\nMKV\nLLA\n\n>P2\nmkvw\n>P3 x\nACDX*B\n";

    static List<FastaReader.Record> all(FastaReader r) {
        List<FastaReader.Record> out = new ArrayList<>();
        while (r.hasNext()) out.add(r.next());
        return out;
    }

    @Test
    void readsMultiLineRecordsPlainAndGzip() throws IOException {
        Path plain = tmp.resolve("a.fasta"), gz = tmp.resolve("a.fasta.gz");
        Files.writeString(plain, FASTA);
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(FASTA.getBytes(StandardCharsets.UTF_8));
        }
        for (Path p : new Path[]{plain, gz}) {
            try (FastaReader r = FastaReader.open(p)) {
                List<FastaReader.Record> recs = all(r);
                assertEquals(3, recs.size());
                assertEquals("P1", recs.get(0).id());
                assertEquals("first protein", recs.get(0).description());
                assertEquals("MKVLLA", recs.get(0).sequence());
                assertEquals("mkvw", recs.get(1).sequence());
                assertEquals(7, recs.get(2).line(), "header line of P3");
            }
        }
    }

    @Test
    void malformedFastaIsANamedError() throws IOException {
        Path empty = tmp.resolve("empty.fasta"), noHeader = tmp.resolve("nohdr.fasta");
        Files.writeString(empty, "\n\n");
        Files.writeString(noHeader, "MKV\n>P1\nMK\n");
        var e1 = assertThrows(FastaReader.FormatException.class, () -> FastaReader.open(empty));
        assertTrue(e1.getMessage().contains("empty.fasta: no FASTA record"), e1.getMessage());
        var e2 = assertThrows(FastaReader.FormatException.class, () -> FastaReader.open(noHeader));
        assertTrue(e2.getMessage().contains("nohdr.fasta:1: sequence text before"), e2.getMessage());
        var e3 = assertThrows(FastaReader.FormatException.class, () -> FastaReader.open(tmp.resolve("missing.fa")));
        assertTrue(e3.getMessage().contains("missing.fa: no such file"));
    }

    @Test
    void tokenizerCoversThe25LettersAndAppliesTheUnknownPolicy() {
        assertEquals(30, Tokenizer.PROTEIN.vocabSize());
        int[] ids = Tokenizer.PROTEIN.encode("ACDEFGHIKLMNPQRSTVWYBZXUO", Tokenizer.Unknown.SKIP_RECORD);
        for (int i = 0; i < ids.length; i++) assertEquals(Tokenizer.FIRST_SYMBOL + i, ids[i]);
        assertArrayEquals(Tokenizer.PROTEIN.encode("MKV", Tokenizer.Unknown.SKIP_RECORD),
                Tokenizer.PROTEIN.encode("mkv", Tokenizer.Unknown.SKIP_RECORD));
        assertNull(Tokenizer.PROTEIN.encode("AC*D", Tokenizer.Unknown.SKIP_RECORD));
        assertEquals(Tokenizer.letter('X'), Tokenizer.PROTEIN.encode("AC*D", Tokenizer.Unknown.MAP_TO_X)[2]);
        assertEquals("MKV<eos>", Tokenizer.PROTEIN.decode(new int[]{Tokenizer.letter('M'), Tokenizer.letter('K'),
                Tokenizer.letter('V'),
                Tokenizer.EOS}, 0, 4));
    }

    @Test
    void unknownCharactersAreReportedWithTheRecordId() throws IOException {
        Path f = tmp.resolve("u.fasta");
        Files.writeString(f, FASTA);
        ByteArrayOutputStream warn = new ByteArrayOutputStream();
        SequenceData keep = new SequenceData(), skip = new SequenceData();
        int[] r1 = SequenceData.readFiles(List.of(f), Tokenizer.Unknown.MAP_TO_X, keep, null, 0, 0,
                new java.io.PrintStream(warn, true, StandardCharsets.UTF_8));
        assertTrue(warn.toString(StandardCharsets.UTF_8).contains("record P3 has '*' at residue 5"),
                warn.toString(StandardCharsets.UTF_8));
        assertEquals(3, keep.size());
        int[] r2 = SequenceData.readFiles(List.of(f), Tokenizer.Unknown.SKIP_RECORD, skip, null, 0, 0, null);
        assertEquals(2, skip.size());
        assertArrayEquals(new int[]{3, 0}, r1);
        assertArrayEquals(new int[]{3, 1}, r2);
    }

    @Test
    void splitIsDeterministicAndNearItsFraction() {
        int val = 0;
        for (int i = 0; i < 20000; i++) {
            boolean v = Split.isValidation("ID" + i, 7, 0.1);
            assertEquals(v, Split.isValidation("ID" + i, 7, 0.1));
            if (v) val++;
        }
        // binomial(20000, 0.1): standard deviation 42; 5 standard deviations
        assertEquals(2000, val, 5 * 42);
        assertNotEquals(Split.isValidation("ID1", 7, 0.5) + "" + Split.isValidation("ID2", 7, 0.5)
                + Split.isValidation("ID3", 7, 0.5) + Split.isValidation("ID4", 7, 0.5)
                + Split.isValidation("ID5", 7, 0.5) + Split.isValidation("ID6", 7, 0.5),
                Split.isValidation("ID1", 8, 0.5) + "" + Split.isValidation("ID2", 8, 0.5)
                        + Split.isValidation("ID3", 8, 0.5) + Split.isValidation("ID4", 8, 0.5)
                        + Split.isValidation("ID5", 8, 0.5) + Split.isValidation("ID6", 8, 0.5),
                "another seed gives another split");
    }

    static SequenceData sample(int n, int len, long seed) {
        SequenceData d = new SequenceData();
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            int[] s = new int[len / 2 + r.nextInt(len)];
            for (int j = 0; j < s.length; j++) s[j] = Tokenizer.FIRST_SYMBOL + r.nextInt(20);
            d.add("S" + i, s);
        }
        return d;
    }

    @Test
    void maskedBatchesFollowThe15Percent80_10_10Rule() {
        SequenceData d = sample(200, 300, 1);
        long residues = 0, selected = 0, masked = 0, random = 0, kept = 0;
        for (int step = 0; step < 200; step++) {
            SequenceData.Batch b = d.sample(8, 128, SequenceData.Layout.PAD, true, 3, step);
            for (int i = 0; i < b.tokens().length; i++) {
                int t = b.tokens()[i], y = b.targets()[i];
                if (y < 0) {
                    assertNotEquals(Tokenizer.MASK, t, "unselected positions keep their token");
                    if (t >= Tokenizer.FIRST_SYMBOL) residues++;
                    continue;
                }
                residues++;
                selected++;
                assertTrue(y >= Tokenizer.FIRST_SYMBOL, "targets are residues");
                if (t == Tokenizer.MASK) masked++; else if (t == y) kept++; else random++;
            }
            assertEquals(0f, b.keyMask()[b.tokens().length - 1] == 0f
                    && b.tokens()[b.tokens().length - 1] != Tokenizer.PAD ? 1f : 0f);
        }
        double p = (double) selected / residues;
        // binomial proportions over ~200k residues: 5 standard errors
        assertEquals(0.15, p, 5 * Math.sqrt(0.15 * 0.85 / residues));
        assertEquals(0.8, (double) masked / selected, 5 * Math.sqrt(0.16 / selected));
        // a random residue equals the original 1 time in 20, so "kept" is 10% + 10%/20
        assertEquals(0.105, (double) kept / selected, 5 * Math.sqrt(0.105 * 0.895 / selected));
        assertEquals(0.095, (double) random / selected, 5 * Math.sqrt(0.095 * 0.905 / selected));
    }

    @Test
    void aReusedBatchHoldsExactlyWhatAFreshSampleHolds() {
        SequenceData d = sample(50, 100, 4);
        for (SequenceData.Layout layout : SequenceData.Layout.values())
            for (boolean masked : new boolean[]{true, false}) {
                SequenceData.Batch reused = null;
                for (int step = 0; step < 6; step++) {
                    SequenceData.Batch next = d.sample(3, 40, layout, masked, 11, step, reused);
                    if (reused != null) assertSame(reused, next, "the buffer is reused");
                    reused = next;
                    SequenceData.Batch fresh = d.sample(3, 40, layout, masked, 11, step);
                    assertArrayEquals(fresh.tokens(), reused.tokens(), layout + " masked=" + masked + " step " + step);
                    assertArrayEquals(fresh.targets(), reused.targets());
                    assertArrayEquals(fresh.keyMask(), reused.keyMask());
                }
                assertNotSame(reused, d.sample(2, 40, layout, masked, 11, 0, reused), "another shape gets a new batch");
            }
    }

    @Test
    void causalBatchesPredictTheNextTokenAndAreSeeded() {
        SequenceData d = sample(50, 100, 2);
        SequenceData.Batch a = d.sample(4, 64, SequenceData.Layout.PAD, false, 9, 5),
                b = d.sample(4, 64, SequenceData.Layout.PAD, false, 9, 5);
        assertArrayEquals(a.tokens(), b.tokens());
        assertArrayEquals(a.targets(), b.targets());
        assertFalse(java.util.Arrays.equals(a.tokens(), d.sample(4, 64, SequenceData.Layout.PAD, false, 9,
                6).tokens()));
        int targets = 0;
        for (int i = 0; i < 4; i++) {
            assertEquals(Tokenizer.BOS, a.tokens()[i * 64]);
            for (int t = 0; t + 1 < 64; t++) {
                int y = a.targets()[i * 64 + t], next = a.tokens()[i * 64 + t + 1];
                if (y >= 0) { assertEquals(next, y, "target is the next input token"); targets++; }
                assertEquals(a.tokens()[i * 64 + t] == Tokenizer.PAD ? 0f : 1f, a.keyMask()[i * 64 + t]);
            }
        }
        assertTrue(targets > 4 * 32, "most positions have a target: " + targets); // records are >= 50 residues long
        SequenceData.Batch c = d.sample(2, 64, SequenceData.Layout.CONCAT, false, 9, 1);
        boolean sep = false;
        for (int t : c.tokens()) sep |= t == Tokenizer.SEP;
        assertTrue(sep, "concatenated windows cross record boundaries at SEP");
    }
}
