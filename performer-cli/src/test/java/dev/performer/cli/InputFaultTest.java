package dev.performer.cli;

import static dev.performer.cli.FreshJvm.assertUserError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad inputs, bad outputs and out-of-range options through the real command line in a fresh JVM:
 * exit code 2, a short message naming the file or option at fault, no stack trace, and nothing
 * computed before an output path is known to be usable.
 */
class InputFaultTest {

    @TempDir
    Path tmp;

    Path fasta, folder, model;

    static final List<String> TINY = FreshJvm.TINY;

    @BeforeEach
    void files() throws IOException {
        fasta = FreshJvm.writeFasta(tmp.resolve("p.fasta"));
        folder = Files.createDirectories(tmp.resolve("a-folder"));
    }

    FreshJvm.Proc run(String... args) throws IOException, InterruptedException {
        return FreshJvm.run(tmp, List.of(args));
    }

    FreshJvm.Proc train(String... extra) throws IOException, InterruptedException {
        List<String> a = new ArrayList<>(List.of("train", "--steps", "2"));
        a.addAll(TINY);
        a.addAll(List.of(extra));
        return FreshJvm.run(tmp, a);
    }

    /** A tiny causal model, trained once per test that needs it. */
    Path causalModel() throws IOException, InterruptedException {
        Path run = tmp.resolve("causal");
        FreshJvm.Proc p = train("--data", fasta.toString(), "--run", run.toString(), "--direction", "causal",
                "--attention", "exact");
        assertEquals(0, p.code(), p.err());
        return run;
    }

    @Test
    void unreadableInputsNameTheFile() throws Exception {
        Path gz = tmp.resolve("cut.fasta.gz");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(bytes)) { z.write(Files.readAllBytes(fasta)); }
        Files.write(gz, Arrays.copyOf(bytes.toByteArray(), bytes.size() / 2));   // a download cut short
        Path junk = tmp.resolve("junk.fasta");
        Files.write(junk, new byte[]{'>', 'a', '\n', 'M', 'K', 0, 1, (byte) 0xff, 'V', '\n'});
        assertUserError(train("--data", folder.toString(), "--run", tmp.resolve("r1").toString()),
                "--data " + folder + " is a folder");
        assertUserError(train("--data", gz.toString(), "--run", tmp.resolve("r2").toString()), gz.toString(),
                "truncated or damaged gzip");
        assertUserError(train("--data", junk.toString(), "--run", tmp.resolve("r3").toString()), junk + ":2:3",
                "not text");
        assertUserError(train("--data", fasta.toString(), "--valid", tmp.resolve("none.fa").toString(), "--run",
                tmp.resolve("r4").toString()), "--valid " + tmp.resolve("none.fa") + ": no such file");
        Path m = causalModel();
        assertUserError(run("eval", "--checkpoint", m.toString(), "--data", folder.toString()), folder.toString(),
                "is a folder");
        assertUserError(run("eval", "--checkpoint", m.toString(), "--data", gz.toString()), "truncated or damaged");
        // a UTF-8 byte-order mark before the first header is not an error
        Path bom = tmp.resolve("bom.fasta");
        Files.write(bom, ("\uFEFF" + Files.readString(fasta)).getBytes(StandardCharsets.UTF_8));
        FreshJvm.Proc ok = run("eval", "--checkpoint", m.toString(), "--data", bom.toString(), "--json");
        assertEquals(0, ok.code(), ok.err());
    }

    /** A copy of a checkpoint whose JSON header has the first match of regex replaced (still valid JSON). */
    static Path withHeader(Path ck, Path to, String regex, String replacement) throws IOException {
        byte[] b = Files.readAllBytes(ck);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int hl = (int) bb.getLong(0);
        String h = new String(b, 8, hl, StandardCharsets.UTF_8);
        String h2 = h.replaceFirst(regex, replacement);
        assertTrue(!h2.equals(h), "the header has " + regex);
        byte[] nh = h2.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + nh.length + b.length - 8 - hl).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(nh.length).put(nh).put(b, 8 + hl, b.length - 8 - hl);
        return Files.write(to, out.array());
    }

    @Test
    void wellFormedFilesOfTheWrongContentNameTheField() throws Exception {
        // .npy version 2 whose header claims 2^31 - 1 bytes (an int overflow once the preamble is added)
        Path npy = tmp.resolve("huge-header.npy");
        ByteBuffer bb = ByteBuffer.allocate(13).order(ByteOrder.LITTLE_ENDIAN);
        bb.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 2).put((byte) 0)
                .putInt(Integer.MAX_VALUE).put((byte) '{');
        Files.write(npy, bb.array());
        assertUserError(run("attention", "--q", npy.toString(), "--k", npy.toString(), "--v", npy.toString(),
                "--out", tmp.resolve("o").toString()), npy + ": truncated header");
        Path m = causalModel().resolve("checkpoint-0000002.safetensors");
        Path strings = withHeader(m, tmp.resolve("strings.safetensors"), "\"shape\":\\s*\\[[^\\]]*\\]",
                "\"shape\":[\"a\",\"b\"]");
        assertUserError(run("eval", "--checkpoint", strings.toString(), "--data", fasta.toString()),
                strings.toString(), "shape is [a, b], not a list of whole numbers");
        Path noOffsets = withHeader(m, tmp.resolve("no-offsets.safetensors"), "\"data_offsets\"", "\"offsets\"");
        assertUserError(run("eval", "--checkpoint", noOffsets.toString(), "--data", fasta.toString()),
                noOffsets.toString(), "data_offsets is missing");
    }

    @Test
    void outputPathsAreCheckedBeforeAnyWork() throws Exception {
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "keep me");
        long t0 = System.nanoTime();
        // approx would compute for minutes before writing: refused at once
        assertUserError(run("approx", "--out", file.toString()), "--out " + file + " is a file");
        assertUserError(run("bench", "--scope", "gemm", "--out", file.toString()), "--out " + file + " is a file");
        String c = "favor_softmax_causal_eps1e-4";
        assertUserError(run("attention", "--q", CliTest.golden(c, "q"), "--k", CliTest.golden(c, "k"), "--v",
                CliTest.golden(c, "v"), "--out", file.toString()), "--out " + file + " is a file");
        Path png = Files.createDirectories(tmp.resolve("plot.png"));
        assertUserError(run("plot-runs", "--runs", tmp.toString(), "--out", png.toString()), "--out " + png
                + " is a folder");
        assertTrue((System.nanoTime() - t0) / 1e9 < 60, "refused without computing");
        assertEquals("keep me", Files.readString(file), "the file is untouched");
    }

    @Test
    void embedReplacesEmbeddingsAndIdsTogether() throws Exception {
        Path m = causalModel(), emb = tmp.resolve("emb.npy"), ids = tmp.resolve("emb.ids.txt");
        assertEquals(0, run("embed", "--checkpoint", m.toString(), "--data", fasta.toString(), "--out",
                emb.toString()).code());
        Path fewer = tmp.resolve("fewer.fasta");
        Files.writeString(fewer, ">X1\nMKVLA\n>X2\nWWYYH\n");
        assertEquals(0, run("embed", "--checkpoint", m.toString(), "--data", fewer.toString(), "--out",
                emb.toString()).code());
        assertEquals(List.of("X1", "X2"), Files.readAllLines(ids));
        assertEquals(2, dev.performer.io.Npy.read(emb).shape()[0], "rows match the ids");
        assertUserError(run("embed", "--checkpoint", m.toString(), "--data", folder.toString(), "--out",
                tmp.resolve("e2.npy").toString()), "--data " + folder + " is a folder");
        Path asFolder = Files.createDirectories(tmp.resolve("x.npy"));
        assertUserError(run("embed", "--checkpoint", m.toString(), "--data", fasta.toString(), "--out",
                asFolder.toString()), "--out " + asFolder + " is a folder");
    }

    @Test
    void optionsOutOfRangeAreRefused() throws Exception {
        String run = tmp.resolve("r").toString();
        assertUserError(train("--valid-fraction", "0", "--run", run), "--valid-fraction must be in (0, 1), got 0");
        assertUserError(train("--valid-fraction", "1.5", "--run", run), "--valid-fraction must be in (0, 1)");
        assertUserError(train("--threads", "100000", "--run", run), "--threads must be <= 1024, got 100000");
        assertUserError(train("--lr", "-1", "--run", run), "--lr must be in (0, inf), got -1");
        assertUserError(train("--dropout", "1", "--run", run), "--dropout must be in [0, 1), got 1");
        assertUserError(train("--steps", "3", "--steps", "4", "--run", run), "'--steps'", "only once");
        assertUserError(run("bench", "--budget-seconds", "-1"), "--budget-seconds must be in (0, inf), got -1");
        assertUserError(train("--run", "--resume"), "'--run'", "--resume");
        assertTrue(!Files.exists(Path.of(run)), "no run folder made for a refused command line");
        // nothing held out for validation: said at the start, and no NaN metrics at the end
        Path two = Files.writeString(tmp.resolve("two.fasta"), ">a\nMKVLAAGW\n>b\nMKKLLAAG\n");
        FreshJvm.Proc p = train("--data", two.toString(), "--valid-fraction", "0.01", "--run", run);
        assertEquals(0, p.code(), p.err());
        assertTrue(p.err().contains("warning: no validation sequences"), p.err());
        assertTrue(p.out().contains("done: no validation") && !p.out().contains("NaN"), p.out());
    }

    @Test
    void generationYieldsResiduesAtAnyTemperature() throws Exception {
        Path m = causalModel();
        // 1e-30: every p^(1/τ) underflows to 0 unless taken relative to the largest; then it is greedy decoding
        FreshJvm.Proc p = run("generate", "--checkpoint", m.toString(), "--prompt", "MKV", "--tokens", "8",
                "--temperature", "1e-30", "--seed", "1", "--samples", "2");
        assertEquals(0, p.code(), p.err());
        for (String line : p.out().lines().filter(l -> l.startsWith("MKV|")).toList())
            assertTrue(line.substring(4).matches("[A-Z]*"), "residue letters only, no special token: " + line);
        assertEquals(2, p.out().lines().filter(l -> l.startsWith("MKV|")).count(), p.out());
        assertUserError(run("generate", "--checkpoint", m.toString(), "--prompt", "MKV", "--temperature", "0"),
                "--temperature must be in (0, inf)");
        assertUserError(run("generate", "--checkpoint", m.toString(), "--prompt", "MKV", "--top-p", "0"),
                "--top-p must be in (0, 1]");
        assertUserError(run("generate", "--checkpoint", m.toString(), "--prompt", "MKV", "--tokens", "100"),
                "learned positions");
    }
}
