package dev.performer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.io.Npy;
import dev.performer.testutil.Golden;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end: outputs on golden inputs, and one-line errors with exit code 2. */
class CliTest {

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static String golden(String c, String f) { return Golden.root().resolve(c).resolve(f + ".npy").toString(); }

    static double relErr(Npy.Array got, Npy.Array want) {
        assertArrayEquals(want.shape(), got.shape());
        double err = 0, max = 0;
        for (int i = 0; i < got.data().length; i++) {
            err = Math.max(err, Math.abs(got.data()[i] - want.data()[i]));
            max = Math.max(max, Math.abs(want.data()[i]));
        }
        return err / max;
    }

    @Test
    void attentionCommandReproducesGoldenOutputsAndGradients() throws IOException {
        String c = "favor_softmax_causal_eps1e-4";
        Result r = run("attention", "--q", golden(c, "q"), "--k", golden(c, "k"), "--v", golden(c, "v"), "--projection",
                golden(c, "w"),
                "--kernel", "softmax", "--eps", "1e-4", "--causal", "--dout", golden(c, "dout"), "--out",
                        tmp.toString());
        assertEquals(0, r.code(), r.err());
        // float32 compute against the float64 reference: the GoldenParityTest bound 8u(√D+√L+√Mf) ≈ 1e-5 here,
        // 2× for gradients
        assertTrue(relErr(Npy.read(tmp.resolve("out.npy")), Npy.read(Path.of(golden(c, "out")))) < 1e-5);
        for (String g : new String[]{"dq", "dk", "dv"})
            assertTrue(relErr(Npy.read(tmp.resolve(g + ".npy")), Npy.read(Path.of(golden(c, g)))) < 2e-5, g);
        assertEquals("<f4", Npy.read(tmp.resolve("out.npy")).dtype());
    }

    @Test
    void approxComparesOprfWithSmPlusAndItsClosedForm() throws IOException {
        Path dir = tmp.resolve("approx");
        Result r = run("approx", "--L", "64", "--dim", "8", "--features", "8,64", "--draws", "3", "--kernel-draws",
                "400", "--kernel-features", "16", "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        var rows = Files.readAllLines(dir.resolve("approx.csv"));
        assertTrue(rows.stream().filter(x -> x.startsWith("softmax-opt,")).count() == 4, "2 projections x 2 M");
        var kernel = Files.readAllLines(dir.resolve("kernel_mse.csv"));
        String[] head = kernel.get(0).split(",");
        var cols = Arrays.asList(head);
        int fm = cols.indexOf("feature_map"), norm = cols.indexOf("norm"), emp = cols.indexOf("mse_empirical"),
                closed = cols.indexOf("mse_closed_form");
        int checked = 0;
        for (int i = 1; i < kernel.size(); i++) {
            String[] c = kernel.get(i).split(",");
            if (!c[fm].equals("softmax-opt")) continue;
            // OPRF at its pair-optimal A never has a larger closed-form MSE than SM+ (A = 0) at the same point
            String[] sm = kernel.get(i - 2).split(",");
            assertEquals("softmax", sm[fm]);
            // (plus rounding: the OPRF form subtracts SM² from its second moment, 1e-15 of SM² where both vanish)
            double kv = Double.parseDouble(c[cols.indexOf("kernel_value")]);
            assertTrue(Double.parseDouble(c[closed]) <= Double.parseDouble(sm[closed]) * (1 + 1e-9) + 1e-15 * kv * kv,
                    kernel.get(i));
            // at |x| = |y| = 0.5 the estimator is light-tailed: 400 draws put the sample MSE within 2x of its closed
            // form (relative standard error of a sample variance ~ sqrt(2/400) = 7% for Gaussian-like tails)
            if (Double.parseDouble(c[norm]) == 0.5) {
                double ratio = Double.parseDouble(c[emp]) / Double.parseDouble(c[closed]);
                if (Double.parseDouble(c[closed]) > 1e-12) {
                    assertTrue(ratio > 0.5 && ratio < 2, kernel.get(i));
                    checked++;
                }
            }
        }
        assertTrue(checked >= 10, "OPRF kernel rows at norm 0.5 checked: " + checked);
    }

    @Test
    void exactKernelAndKeyMaskThroughTheCommandLine() throws IOException {
        String c = "exact_bidir_keymask";
        Result r = run("attention", "--q", golden(c, "q"), "--k", golden(c, "k"), "--v", golden(c, "v"), "--kernel",
                "exact",
                "--key-mask", golden(c, "key_mask"), "--out", tmp.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(relErr(Npy.read(tmp.resolve("out.npy")), Npy.read(Path.of(golden(c, "out")))) < 1e-5);
    }

    @Test
    void drawnProjectionIsWrittenAndReproducible() throws IOException {
        String c = "favor_softmax_bidir";
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        for (Path p : new Path[]{a, b})
            assertEquals(0,
                    run("attention", "--q", golden(c, "q"), "--k", golden(c, "k"), "--v", golden(c, "v"), "--features",
                            "20",
                    "--seed", "3", "--out", p.toString()).code());
        assertArrayEquals(Files.readAllBytes(a.resolve("out.npy")), Files.readAllBytes(b.resolve("out.npy")),
                "same seed, same bits");
        assertArrayEquals(new int[]{20, 16}, Npy.read(a.resolve("projection.npy")).shape());
    }

    @Test
    void userMistakesExitWith2AndNameTheCulprit() throws IOException {
        String c = "favor_softmax_bidir";
        Path bad = tmp.resolve("bad.npy");
        Npy.writeFloat32(bad, new int[]{2, 3}, new float[6]);
        Path nan = tmp.resolve("nan.npy");
        Npy.Array q = Npy.read(Path.of(golden(c, "q")));
        float[] qf = q.toFloats();
        qf[5] = Float.NaN;
        Npy.writeFloat32(nan, q.shape(), qf);
        Path garbage = tmp.resolve("garbage.npy");
        Files.writeString(garbage, "not numpy");
        String out = tmp.resolve("o").toString();
        Object[][] cases = {
                {new String[]{"attention", "--q", bad.toString(), "--k", golden(c, "k"), "--v", golden(c, "v"), "--out",
                        out}, "bad.npy: expected shape (B,H,L,D)"},
                {new String[]{"attention", "--q", nan.toString(), "--k", golden(c, "k"), "--v", golden(c, "v"), "--out",
                        out}, "nan.npy: non-finite value NaN at index (0,0,0,5)"},
                {new String[]{"attention", "--q", garbage.toString(), "--k", golden(c, "k"), "--v", golden(c, "v"),
                        "--out", out}, "garbage.npy: not a .npy file"},
                {new String[]{"attention", "--q", tmp.resolve("missing.npy").toString(), "--k", golden(c, "k"), "--v",
                        golden(c, "v"), "--out", out}, "missing.npy: no such file"},
                {new String[]{"attention", "--q", golden(c, "q"), "--k", golden(c, "k"), "--v", golden(c, "v"),
                        "--kernel", "cosine", "--out", out}, "--kernel must be one of"},
                {new String[]{"attention", "--q", golden(c, "q"), "--k", golden(c, "k"), "--v", golden(c, "v"),
                        "--projection", bad.toString(), "--out", out}, "bad.npy: expected shape (M,16)"},
                {new String[]{"attention", "--q", golden(c, "q"), "--k", golden(c, "k"), "--v", golden(c, "v"),
                        "--features", "-3", "--out", out}, "--features must be >= 1"},
                {new String[]{"attention", "--q", golden(c, "q"), "--k", golden(c, "k"), "--v", golden(c, "v")},
                        "--out is required"},
                {new String[]{"attention", "--q", golden(c, "q"), "--bogus", "1"}, "unknown option --bogus"},
                {new String[]{"nonsense"}, "unknown command 'nonsense'"},
                {new String[]{"bench", "--scope", "layer", "--methods", "favor-magic"},
                        "--methods value 'favor-magic'"},
        };
        for (Object[] cs : cases) {
            Result r = run((String[]) cs[0]);
            assertEquals(2, r.code(), "exit code for " + cs[1] + ": " + r.err());
            assertTrue(r.err().contains((String) cs[1]), "message should contain '" + cs[1] + "' but was: " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace for a user mistake: " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        }
    }

    @Test
    void trainThenEvalFromTheCommandLine() throws IOException {
        Path fa = FreshJvm.writeFasta(tmp.resolve("p.fasta"));
        Path run = tmp.resolve("run");
        Result t = run("train", "--data", fa.toString(), "--run", run.toString(), "--steps", "6", "--L", "32",
                "--batch", "2", "--layers", "1",
                "--width", "16", "--heads", "2", "--ffn", "32", "--features", "8", "--direction", "causal", "--seed",
                        "3");
        assertEquals(0, t.code(), t.err());
        assertTrue(Files.exists(run.resolve("loss.png")) && Files.exists(run.resolve("log.csv")));
        assertTrue(Files.exists(run.resolve("checkpoint-0000006.safetensors")));
        Result e = run("eval", "--checkpoint", run.toString(), "--data", fa.toString(), "--json");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out()
                .matches("(?s)\\{\"loss\": [0-9.]+, \"accuracy\": [0-9.]+, \"perplexity\": [0-9.]+, \"targets\": "
                        + "\\d+\\}\\s*"), e.out());
        Result g = run("generate", "--checkpoint", run.toString(), "--prompt", "MKV", "--tokens", "5", "--seed", "1",
                "--top-k", "5");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.out().startsWith("MKV|"), g.out());
        Path emb = tmp.resolve("emb.npy");
        Result em = run("embed", "--checkpoint", run.toString(), "--data", fa.toString(), "--out", emb.toString());
        assertEquals(0, em.code(), em.err());
        Npy.Array ea = Npy.read(emb);
        assertArrayEquals(new int[]{40, 16}, ea.shape());
        assertEquals(40, Files.readAllLines(tmp.resolve("emb.ids.txt")).size());
        assertEquals("S0", Files.readAllLines(tmp.resolve("emb.ids.txt")).get(0));
        // records 0 and 3 are the same sequence: the same embedding, bit for bit (padding never enters the mean)
        for (int j = 0; j < 16; j++) assertEquals(ea.data()[j], ea.data()[3 * 16 + j], 0.0);
        Result g2 = run("generate", "--checkpoint", run.toString(), "--prompt", "MK1", "--tokens", "5");
        assertEquals(2, g2.code());
        assertTrue(g2.err().contains("'1' at 3"), g2.err());
        Result r = run("train", "--data", fa.toString(), "--run", run.toString(), "--steps", "8", "--L", "32",
                "--batch", "2", "--layers", "1",
                "--width", "16", "--heads", "2", "--ffn", "32", "--features", "8", "--direction", "causal", "--seed",
                        "3", "--resume");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resuming from") && Files.exists(run.resolve("checkpoint-0000008.safetensors")),
                r.out());
        Result bad = run("train", "--data", tmp.resolve("nope.fasta").toString(), "--run", run.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("nope.fasta: no such file"), bad.err());
        Result badResume = run("train", "--data", fa.toString(), "--run", run.toString(), "--width", "32", "--resume",
                "--L", "32");
        assertEquals(2, badResume.code());
        assertTrue(badResume.err().contains("holds a different model"), badResume.err());
        // rotary positions and IID features from the command line, then both runs in one plot
        Path run2 = tmp.resolve("run2");
        Result t2 = run("train", "--data", fa.toString(), "--run", run2.toString(), "--steps", "4", "--L", "32",
                "--batch", "2", "--layers", "1",
                "--width", "16", "--heads", "2", "--ffn", "32", "--features", "8", "--direction", "causal",
                        "--positional", "rotary",
                "--projection", "iid", "--eval-every", "2");
        assertEquals(0, t2.code(), t2.err());
        assertTrue(t2.out().contains("M=8 iid, rotary positions"), t2.out());
        Path png = tmp.resolve("cmp.png");
        Result pr = run("plot-runs", "--runs", run + "," + run2, "--out", png.toString());
        assertEquals(0, pr.code(), pr.err());
        assertTrue(Files.size(png) > 1000 && pr.out().contains("run2"), pr.out());
        Result prTime = run("plot-runs", "--runs", run + "," + run2, "--labels", "first,second", "--x", "time",
                "--out", png.toString());
        assertEquals(0, prTime.code(), prTime.err());
        assertTrue(prTime.out().contains("second") && prTime.out().contains("seconds"), prTime.out());
        Result prLabels = run("plot-runs", "--runs", run + "," + run2, "--labels", "one", "--out", png.toString());
        assertEquals(2, prLabels.code());
        assertTrue(prLabels.err().contains("--labels has 1 names for 2 --runs"), prLabels.err());
        Result prBad = run("plot-runs", "--runs", tmp.resolve("none").toString(), "--out", png.toString());
        assertEquals(2, prBad.code());
        assertTrue(prBad.err().contains("log.csv not found"), prBad.err());
    }

    @Test
    void initFromStartsAnotherAttentionFromTrainedWeights() throws IOException {
        Path fa = FreshJvm.writeFasta(tmp.resolve("p.fasta"));
        Path exact = tmp.resolve("exact"), favor = tmp.resolve("favor");
        String[] small = {"--L", "32", "--batch", "2", "--layers", "1", "--width", "16", "--heads", "2", "--ffn", "32"};
        Result t = run(concat(new String[]{"train", "--data", fa.toString(), "--valid", fa.toString(), "--run",
            exact.toString(), "--steps", "6", "--attention", "exact"}, small));
        assertEquals(0, t.code(), t.err());
        // the architecture and L come from the checkpoint; only attention and training options are given
        Result f = run("train", "--data", fa.toString(), "--valid", fa.toString(), "--run", favor.toString(),
                "--steps", "2", "--init-from", exact.toString(), "--attention", "favor-softmax", "--features", "8",
                "--eval-batches", "0", "--seed", "4");
        assertEquals(0, f.code(), f.err());
        assertTrue(f.out().contains("initialized from " + exact + " (step 6, exact attention)"), f.out());
        assertTrue(f.out().contains("favor-softmax bidirectional, 1 layers, width 16"), f.out());
        // validation before the first step is the exact model's weights under FAVOR+, as eval --attention computes
        // them on its own path (same features, seed, batches): the same number
        String first = Files.readAllLines(favor.resolve("log.csv")).get(1);
        assertTrue(first.startsWith("0,valid,"), first);
        Result e = run("eval", "--checkpoint", exact.toString(), "--data", fa.toString(), "--attention",
                "favor-softmax", "--features", "8", "--seed", "4", "--batch", "8", "--json");
        assertEquals(0, e.code(), e.err());
        double logged = Double.parseDouble(first.split(",")[2]);
        double evaluated = Double.parseDouble(e.out().replaceAll("(?s).*\"loss\": ([0-9.]+).*", "$1"));
        assertEquals(evaluated, logged, 1e-6, "step-0 validation loss = eval --attention loss");
        Result own = run("eval", "--checkpoint", exact.toString(), "--data", fa.toString(), "--json");
        assertFalse(own.out().equals(e.out()), "under FAVOR+ the metrics differ from exact attention's");
        Result bad = run("train", "--data", fa.toString(), "--run", tmp.resolve("x").toString(), "--init-from",
                exact.toString(), "--width", "32");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--width 32 differs from the --init-from model"), bad.err());
        Result missing = run("train", "--data", fa.toString(), "--init-from", tmp.resolve("none").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("none: no such file"), missing.err());
    }

    @Test
    void helpForEveryCommandExitsZero() {
        String[] commands = {"info", "demo", "attention", "bench", "approx", "train", "eval", "generate", "embed",
            "plot-runs"};
        for (String cmd : commands) {
            Result r = run(cmd, "--help");
            assertEquals(0, r.code());
            assertTrue(r.out().contains("usage: performer " + cmd), r.out());
            assertTrue(r.out().contains("example"), cmd + " help has an example");
        }
        assertEquals(0, run("--help").code());
        assertEquals(2, run().code());
    }

    /** One line on stderr, exit code 2, no stack trace, and it contains every one of the given parts. */
    static void assertUsageError(Result r, String... parts) {
        assertEquals(2, r.code(), "exit code: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace for a user mistake: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith("error: "), r.err());
        for (String p : parts) assertTrue(r.err().contains(p), "message should contain '" + p + "' but was: "
                + r.err());
    }

    @Test
    void anOptionIsNeverTakenAsTheValueOfAnother() {
        Result r = run("train", "--run", "--resume");
        assertUsageError(r, "'--run'", "--resume");
        assertFalse(Files.exists(Path.of("--resume")), "no run folder named --resume");
    }

    @Test
    void aRepeatedOptionIsAnError() {
        assertUsageError(run("train", "--steps", "5", "--steps", "6"), "--steps", "only once");
    }

    @Test
    void trainHelpShowsDefaultsAndExamples() {
        Result r = run("train", "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(default 300)"), "the default of --steps: " + r.out());
        assertTrue(r.out().contains("(default favor-softmax)"), "the default of --attention: " + r.out());
        assertTrue(r.out().contains("examples:") && r.out()
                .contains("performer train --attention favor-softmax --direction causal"),
                r.out());
    }

    @Test
    void theBaselinesTrainFromTheCommandLineAndLinformerIsNeverCausal() throws IOException {
        Path fa = tmp.resolve("b.fasta");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++)
            sb.append(">B").append(i).append('\n').append("MKVLAAGWYHHPQ".repeat(2)).append('\n');
        Files.writeString(fa, sb.toString());
        String[] small = {"train", "--data", fa.toString(), "--steps", "3", "--L", "32", "--batch", "2",
            "--layers", "1", "--width", "16", "--heads", "2", "--ffn", "32"};
        Result lin = run(concat(small, "--attention", "linformer", "--linformer-k", "4", "--run",
                tmp.resolve("lin").toString()));
        assertEquals(0, lin.code(), lin.err());
        assertTrue(lin.out().contains("linformer bidirectional"), lin.out());
        Result ref = run(concat(small, "--attention", "reformer", "--direction", "causal", "--lsh-chunk", "8",
                "--run", tmp.resolve("ref").toString()));
        assertEquals(0, ref.code(), ref.err());
        assertTrue(ref.out().contains("reformer causal"), ref.out());
        assertUsageError(run(concat(small, "--attention", "linformer", "--direction", "causal")), "linformer",
                "cannot be causal");
        assertUsageError(run(concat(small, "--attention", "reformer", "--lsh-buckets", "3")), "buckets", "3");
    }

    static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void anUnknownChoiceListsTheChoices() {
        assertUsageError(run("train", "--attention", "favor-magic"), "--attention",
                "exact|favor-softmax|favor-softmax-opt|favor-relu|identity|linformer|reformer",
                "'favor-magic'");
        assertUsageError(run("train", "--direction", "sideways"), "--direction", "bidir|causal");
        assertUsageError(run("info", "--backend", "gpu"), "--backend", "scalar|vector|openblas");
    }

    @Test
    void missingValuesAndBadNumbersNameTheOption() {
        assertUsageError(run("train", "--steps"), "--steps");
        assertUsageError(run("train", "--steps", "many"), "--steps must be an integer, got 'many'");
        assertUsageError(run("train", "--lr", "NaN"), "--lr must be finite");
        assertUsageError(run("bench", "--L", "512,x"), "--L must be a comma-separated list of integers, got 'x'");
        assertUsageError(run("bench", "--L", "0"), "--L values must be >= 1");
    }


    @Test
    void benchInterleaveTimesBothDirectionsInOneJvmAndReportsTheRatioOfRounds(@TempDir Path dir) throws IOException {
        assertUsageError(run("bench", "--interleave", "--direction", "causal"),
                "--interleave needs --scope layer or model with --direction both");
        Path out = dir.resolve("pair");
        Result r = run("bench", "--scope", "layer", "--methods", "favor-relu,linformer", "--direction", "both",
                "--pass", "fwd", "--L", "128", "--reps", "5", "--warmup", "0", "--threads", "1", "--interleave",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        java.util.List<String> lines = Files.readAllLines(out.resolve("bench.csv"));
        assertEquals(5, lines.size(), "a header, bidir and causal of each method: " + lines);
        java.util.List<String> cols = Arrays.asList(lines.get(0).split(","));
        String[] bidir = lines.get(1).split(",", -1), causal = lines.get(2).split(",", -1);
        assertEquals("bidir", bidir[cols.indexOf("direction")]);
        assertEquals("causal", causal[cols.indexOf("direction")]);
        assertEquals("ok", causal[cols.indexOf("status")]);
        String note = causal[cols.indexOf("note")];
        assertTrue(note.startsWith("interleaved with bidir in one JVM"), note);
        // the median of the rounds' ratios lies between their quartiles, printed in the note
        double ratio = Double.parseDouble(causal[cols.indexOf("causal_over_bidir")]);
        String[] q = note.substring(note.lastIndexOf(' ') + 1).split("-");
        assertTrue(Double.parseDouble(q[0]) <= ratio && ratio <= Double.parseDouble(q[1]), ratio + " in " + note);
        assertTrue(bidir[cols.indexOf("causal_over_bidir")].isEmpty(), "only the causal row has the ratio");
        // a bidirectional-only method: its causal point is skipped, its bidirectional one runs alone
        String[] linBidir = lines.get(3).split(",", -1), linCausal = lines.get(4).split(",", -1);
        assertEquals("linformer", linBidir[cols.indexOf("method")]);
        assertEquals("ok", linBidir[cols.indexOf("status")], lines.get(3));
        assertFalse(linBidir[cols.indexOf("note")].contains("interleaved"), lines.get(3));
        assertEquals("skipped", linCausal[cols.indexOf("status")], lines.get(4));
    }

    @Test
    void benchDecodeWritesTokensPerSecondPerBatchSize(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("decode");
        Result r = run("bench", "--scope", "decode", "--samples", "1,3", "--tokens", "20", "--reps", "1", "--warmup",
                "0", "--threads", "2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        java.util.List<String> lines = Files.readAllLines(out.resolve("bench.csv"));
        assertEquals(3, lines.size(), "a header and one row per N: " + lines);
        java.util.List<String> cols = Arrays.asList(lines.get(0).split(","));
        String[] first = lines.get(1).split(","), second = lines.get(2).split(",");
        assertEquals("favor-softmax", first[cols.indexOf("method")]);
        assertEquals("1", first[cols.indexOf("samples")]);
        assertEquals("3", second[cols.indexOf("samples")]);
        assertEquals(1.0, Double.parseDouble(first[cols.indexOf("ratio_to_first")]), 1e-12, "the first N is the base");
        // tokens/s = N·tokens / median seconds; both written with 6 significant digits (≤ 5e-6 relative each)
        double tps = Double.parseDouble(second[cols.indexOf("tokens_per_s")]);
        double med = Double.parseDouble(second[cols.indexOf("median_ms")]);
        assertEquals(3 * 20 / (med / 1e3), tps, 2e-5 * tps);
        assertTrue(Files.readString(out.resolve("bench.json")).contains("table2"), "the model is in the metadata");
    }
}
