package dev.performer.cli;

import static dev.performer.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.data.Images;
import dev.performer.io.Npy;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image and byte models end to end: training that learns, and every command on their checkpoints. */
class DataKindsCliTest {

    @TempDir
    static Path tmp;

    static Path imageRun, byteRun, someImages, text;
    static CliTest.Result imageTrain, byteTrain;

    static final String[] SMALL = {"--layers", "1", "--width", "32", "--heads", "2", "--ffn", "64", "--features", "16",
        "--dropout", "0", "--lr", "3e-3"};

    /** performer train with the small model's options and then these. */
    static String[] train(String... rest) {
        String[] out = new String[1 + SMALL.length + rest.length];
        out[0] = "train";
        System.arraycopy(SMALL, 0, out, 1, SMALL.length);
        System.arraycopy(rest, 0, out, 1 + SMALL.length, rest.length);
        return out;
    }

    /** The last "N bits per UNIT" of a training log. */
    static double lastBits(String out, String unit) {
        Matcher m = Pattern.compile("([0-9.]+) bits per " + unit).matcher(out);
        double v = Double.NaN;
        while (m.find()) v = Double.parseDouble(m.group(1));
        return v;
    }

    @BeforeAll
    static void trainOneOfEach() throws IOException {
        // the first 20 bundled images as an IDX file of their own (the eval, embed and completion data)
        try (InputStream in = TrainCommand.bundledStream(TrainCommand.BUNDLED_IMAGES)) {
            Images.Set s = Images.readIdx("bundled", in);
            someImages = tmp.resolve("some-images.idx.gz");
            Images.writeIdx(someImages, s.pixels().subList(0, 20), 28, 28, 1);
        }
        imageRun = tmp.resolve("image-run");
        imageTrain = run(train("--data-kind", "image", "--batch", "4", "--steps", "40", "--eval-every",
                "20", "--eval-batches", "5", "--run", imageRun.toString()));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 120; i++) sb.append("the quick brown fox jumps over the lazy dog. ");
        text = Files.writeString(tmp.resolve("tiny.txt"), sb);
        byteRun = tmp.resolve("byte-run");
        byteTrain = run(train("--data", text.toString(), "--L", "64", "--batch", "8", "--steps",
                "60", "--eval-every", "30", "--run", byteRun.toString()));
    }

    @Test
    void imageTrainingLearnsWellBelowTheUniformEightBits() {
        assertEquals(0, imageTrain.code(), imageTrain.err());
        String o = imageTrain.out();
        assertTrue(o.contains("image, 280 training sequences") && o.contains("images of 28x28 grey"), o);
        assertTrue(o.contains("favor-softmax causal") && o.contains("L<=784"), "images: causal, L = 784 by default");
        // a uniform model scores log2(261) = 8.03 bits; 40 steps of this tiny model reach about 4.9 (measured),
        // the pixel marginals alone (most of Fashion-MNIST is black) are worth about 3 bits
        double bits = lastBits(o, "dim");
        assertTrue(bits < 6.0, "bits per dim " + bits);
        assertTrue(Files.exists(imageRun.resolve("loss.png")));
    }

    @Test
    void everyCommandTakesAnImageCheckpoint() throws IOException {
        assertEquals(0, imageTrain.code(), imageTrain.err());
        CliTest.Result ev = run("eval", "--checkpoint", imageRun.toString(), "--data", someImages.toString(), "--json");
        assertEquals(0, ev.code(), ev.err());
        assertTrue(ev.out().contains("\"targets\": 15680") && ev.out().contains("\"bits_per_dim\": "), ev.out());

        Path emb = tmp.resolve("img-emb.npy");
        CliTest.Result em = run("embed", "--checkpoint", imageRun.toString(), "--data", someImages.toString(),
                "--out", emb.toString());
        assertEquals(0, em.code(), em.err());
        assertArrayEquals(new int[]{20, 32}, Npy.read(emb).shape());
        assertEquals("some-images.idx.gz#0", Files.readAllLines(tmp.resolve("img-emb.ids.txt")).get(0));

        Path grid = tmp.resolve("samples.png");
        CliTest.Result g = run("generate", "--checkpoint", imageRun.toString(), "--samples", "4", "--out",
                grid.toString());
        assertEquals(0, g.code(), g.err());
        BufferedImage img = ImageIO.read(grid.toFile());
        assertNotNull(img, "a readable PNG");
        int cell = 28 * 3 + 2;   // 28 pixels scaled by 96 / 28 = 3, and the gap
        assertEquals(2 * cell + 2, img.getWidth());
        assertEquals(2 * cell + 2, img.getHeight());

        Path comp = tmp.resolve("completions.png");
        CliTest.Result c = run("generate", "--checkpoint", imageRun.toString(), "--samples", "3", "--complete",
                someImages.toString(), "--out", comp.toString());
        assertEquals(0, c.code(), c.err());
        BufferedImage ci = ImageIO.read(comp.toFile());
        assertEquals(6 * cell + 2, ci.getWidth(), "original and completion side by side");
        // the completion's top half is the original's: the first row of pixels matches, cell 0 against cell 1
        for (int x = 0; x < 28; x++)
            assertEquals(ci.getRGB(2 + x * 3, 2), ci.getRGB(2 + cell + x * 3, 2), "column " + x);

        CliTest.Result resumed = run(train("--data-kind", "image", "--batch", "4", "--steps", "45",
                "--eval-every", "20", "--eval-batches", "5", "--run", imageRun.toString(), "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming from") && resumed.out().contains("step 45 checkpoint"),
                resumed.out());
        CliTest.Result init = run("train", "--init-from", imageRun.toString(), "--steps", "2", "--batch", "2",
                "--eval-batches", "1", "--run", tmp.resolve("image-init").toString());
        assertEquals(0, init.code(), init.err());
        assertTrue(init.out().contains("image vocab 261"), init.out());
    }

    @Test
    void byteModelLearnsGeneratesTextAndTakesEveryCommand() throws IOException {
        assertEquals(0, byteTrain.code(), byteTrain.err());
        assertTrue(byteTrain.out().contains("data kind: bytes (detected from"), byteTrain.out());
        // uniform: 8.03 bits per byte; this text of nine words repeated is learned to about 3 in 60 steps (measured)
        double bits = lastBits(byteTrain.out(), "byte");
        assertTrue(bits < 5.0, "bits per byte " + bits);
        // the three likeliest bytes at every step are letters, space or '.' of the text: what it has learned
        CliTest.Result g = run("generate", "--checkpoint", byteRun.toString(), "--prompt", "the quick ", "--tokens",
                "30", "--samples", "2", "--top-k", "3");
        assertEquals(0, g.code(), g.err());
        String[] parts = g.out().split("--- sample [12] ---\n");
        assertEquals(3, parts.length, g.out());
        for (int i = 1; i < 3; i++) {
            String s = parts[i].strip();
            assertTrue(s.startsWith("the quick") && s.length() > "the quick ".length(), s);
            assertTrue(s.matches("[a-z. ]+"), "only the text's characters: " + s);
        }
        CliTest.Result ev = run("eval", "--checkpoint", byteRun.toString(), "--data", text.toString(), "--json");
        assertEquals(0, ev.code(), ev.err());
        assertTrue(ev.out().contains("\"bits_per_byte\": "), ev.out());
        Path emb = tmp.resolve("byte-emb.npy");
        CliTest.Result em = run("embed", "--checkpoint", byteRun.toString(), "--data", text.toString(), "--out",
                emb.toString());
        assertEquals(0, em.code(), em.err());
        assertArrayEquals(new int[]{1, 32}, Npy.read(emb).shape(), "one file, one embedding");
        CliTest.Result resumed = run(train("--data", text.toString(), "--L", "64", "--batch", "8", "--steps", "62",
                "--eval-every", "30", "--run", byteRun.toString(), "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming from") && resumed.out().contains("bits per byte"), resumed.out());
    }

    private static void assertUsage(CliTest.Result r, String... parts) {
        assertEquals(2, r.code(), r.out() + r.err());
        for (String p : parts) assertTrue(r.err().contains(p), "'" + p + "' in: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void badImageInputAndMismatchedKindsAreOneLineErrors() throws IOException {
        Path notIdx = Files.writeString(tmp.resolve("notidx.bin"), "hello, not images");
        assertUsage(run("train", "--data", notIdx.toString(), "--data-kind", "image", "--steps", "1", "--run",
                tmp.resolve("e1").toString()), notIdx.toString(), "not an IDX file");
        ByteBuffer h = ByteBuffer.allocate(16 + 100).putInt(0x0803).putInt(2).putInt(28).putInt(28);
        Path cut = Files.write(tmp.resolve("cut.idx"), h.array());
        assertUsage(run("train", "--data", cut.toString(), "--steps", "1", "--run", tmp.resolve("e2").toString()),
                cut.toString(), "truncated");
        Path pngs = Files.createDirectories(tmp.resolve("pngs"));
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY), "png", pngs.resolve("a.png").toFile());
        ImageIO.write(new BufferedImage(5, 4, BufferedImage.TYPE_BYTE_GRAY), "png", pngs.resolve("b.png").toFile());
        assertUsage(run("train", "--data", pngs.toString(), "--steps", "1", "--run", tmp.resolve("e3").toString()),
                "b.png", "4x5 grey", "4x4 grey");

        assertEquals(0, imageTrain.code(), imageTrain.err());
        assertUsage(run("eval", "--checkpoint", imageRun.toString(), "--data", text.toString()), text.toString(),
                "looks like bytes data", "an image model");
        assertUsage(run("eval", "--checkpoint", imageRun.toString(), "--data", someImages.toString(), "--data-kind",
                "protein"), "--data-kind protein", "an image model");
        assertUsage(run("generate", "--checkpoint", imageRun.toString(), "--samples", "2"), "--out FILE.png");
        assertUsage(run("generate", "--checkpoint", imageRun.toString(), "--prompt", "MKV", "--out",
                tmp.resolve("x.png").toString()), "--prompt is text");
        assertEquals(0, byteTrain.code(), byteTrain.err());
        assertUsage(run("generate", "--checkpoint", byteRun.toString(), "--out", tmp.resolve("y.png").toString()),
                "--out and --complete are for image models", "a byte model");
        assertUsage(run("train", "--data-kind", "bytes", "--steps", "1", "--run", tmp.resolve("e4").toString()),
                "--data-kind bytes needs --data");
    }
}
