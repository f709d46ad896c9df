package dev.performer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Images (IDX, PNG) and bytes as sequences: readers, raster order, errors, batches, detection. */
class DataKindsTest {

    @TempDir
    Path tmp;

    /** n images of h x w x c whose value at (image i, row y, column x, channel k) is (7i + 3y + 5x + 11k) mod 256. */
    static List<byte[]> pattern(int n, int h, int w, int c) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] img = new byte[h * w * c];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int k = 0; k < c; k++)
                        img[(y * w + x) * c + k] = (byte) ((7 * i + 3 * y + 5 * x + 11 * k) % 256);
            out.add(img);
        }
        return out;
    }

    @Test
    void idxRoundTripKeepsRasterOrderPlainAndGzip() throws IOException {
        for (String name : new String[]{"a.idx", "a.idx.gz"}) {
            Path f = tmp.resolve(name);
            List<byte[]> imgs = pattern(5, 3, 4, 1);
            Images.writeIdx(f, imgs, 3, 4, 1);
            Images.Set s = Images.readIdx(f);
            assertEquals(5, s.count());
            assertEquals(3, s.height());
            assertEquals(4, s.width());
            assertEquals(1, s.channels());
            for (int i = 0; i < 5; i++) assertArrayEquals(imgs.get(i), s.pixels().get(i), name + " image " + i);
            // raster order: row y, column x at y * W + x
            assertEquals((byte) ((7 * 2 + 3 * 2 + 5 * 1) % 256), s.pixels().get(2)[2 * 4 + 1]);
            assertEquals(Tokenizer.IMAGE, SequenceData.detect(f));
        }
        // colour: (count, H, W, 3), R, G, B interleaved
        Path rgb = tmp.resolve("rgb.idx");
        Images.writeIdx(rgb, pattern(2, 2, 3, 3), 2, 3, 3);
        Images.Set s = Images.readIdx(rgb);
        assertEquals(3, s.channels());
        assertEquals((byte) (7 + 3 + 5 * 2 + 11 * 2), s.pixels().get(1)[(1 * 3 + 2) * 3 + 2]);
    }

    private Path rawFile(String name, byte[] bytes, boolean gzip) throws IOException {
        Path f = tmp.resolve(name);
        try (OutputStream o = gzip ? new GZIPOutputStream(Files.newOutputStream(f)) : Files.newOutputStream(f)) {
            o.write(bytes);
        }
        return f;
    }

    private static byte[] header(int magic, int... sizes) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * sizes.length);
        b.putInt(magic);
        for (int s : sizes) b.putInt(s);
        return b.array();
    }

    @Test
    void malformedIdxFilesGiveErrorsNamingFileAndFault() throws IOException {
        Path png = rawFile("x.idx", "\u0089PNG....".getBytes(StandardCharsets.ISO_8859_1), false);
        String m = assertThrows(DataFormatException.class, () -> Images.readIdx(png)).getMessage();
        assertTrue(m.contains(png.toString()) && m.contains("not an IDX file") && m.contains("magic"), m);

        Path labels = rawFile("labels.idx.gz", header(0x0801, 10), true);
        m = assertThrows(DataFormatException.class, () -> Images.readIdx(labels)).getMessage();
        assertTrue(m.contains(labels.toString()) && m.contains("1 dimension"), m);

        Path two = rawFile("two.idx", header(0x0802, 3, 4), false);
        m = assertThrows(DataFormatException.class, () -> Images.readIdx(two)).getMessage();
        assertTrue(m.contains("2 dimensions"), m);

        Path floats = rawFile("floats.idx", header(0x0d03, 1, 2, 2), false);
        m = assertThrows(DataFormatException.class, () -> Images.readIdx(floats)).getMessage();
        assertTrue(m.contains("type 0x0d") && m.contains("unsigned bytes"), m);

        byte[] h = header(0x0803, 3, 2, 2), body = new byte[2 * 4 + 1];   // 3 images announced, 2.25 present
        byte[] cut = Arrays.copyOf(h, h.length + body.length);
        Path truncated = rawFile("cut.idx.gz", cut, true);
        m = assertThrows(DataFormatException.class, () -> Images.readIdx(truncated)).getMessage();
        assertTrue(m.contains(truncated.toString()) && m.contains("truncated") && m.contains("image 3"), m);

        Path badSize = rawFile("bad.idx", header(0x0804, 1, 2, 2, 2), false);   // 2 channels
        m = assertThrows(DataFormatException.class, () -> Images.readIdx(badSize)).getMessage();
        assertTrue(m.contains("not images"), m);

        Path empty = rawFile("empty.idx", new byte[1], false);
        m = assertThrows(DataFormatException.class, () -> Images.readIdx(empty)).getMessage();
        assertTrue(m.contains("shorter than its 4-byte header"), m);
        assertThrows(DataFormatException.class, () -> Images.readIdx(tmp.resolve("missing.idx")));
    }

    @Test
    void pngFolderGreyAndColourInRasterOrderAndShapeChecked() throws IOException {
        Path grey = Files.createDirectories(tmp.resolve("grey"));
        for (int i = 0; i < 3; i++) {
            BufferedImage img = new BufferedImage(4, 3, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 3; y++) for (int x = 0; x < 4; x++) img.getRaster().setSample(x, y, 0,
                    10 * i + 4 * y + x);
            ImageIO.write(img, "png", grey.resolve("img" + i + ".png").toFile());
        }
        Files.writeString(grey.resolve("notes.txt"), "not an image");   // other files are ignored
        Images.Set s = Images.readPngFolder(grey);
        assertEquals(List.of("img0.png", "img1.png", "img2.png"), s.ids());
        assertEquals(1, s.channels());
        assertEquals(3, s.height());
        assertEquals(4, s.width());
        assertEquals(10 * 2 + 4 * 1 + 3, s.pixels().get(2)[1 * 4 + 3]);
        assertEquals(Tokenizer.IMAGE, SequenceData.detect(grey));

        Path colour = Files.createDirectories(tmp.resolve("colour"));
        BufferedImage c = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        c.setRGB(1, 0, 0x102030);
        ImageIO.write(c, "png", colour.resolve("a.png").toFile());
        Images.Set cs = Images.readPngFolder(colour);
        assertEquals(3, cs.channels());
        assertArrayEquals(new byte[]{0x10, 0x20, 0x30}, Arrays.copyOfRange(cs.pixels().get(0), 3, 6));

        ImageIO.write(new BufferedImage(5, 3, BufferedImage.TYPE_BYTE_GRAY), "png", grey.resolve("wide.png").toFile());
        String m = assertThrows(DataFormatException.class, () -> Images.readPngFolder(grey)).getMessage();
        assertTrue(m.contains("wide.png") && m.contains("3x5 grey") && m.contains("3x4 grey"), m);

        Path none = Files.createDirectories(tmp.resolve("none"));
        m = assertThrows(DataFormatException.class, () -> Images.readPngFolder(none)).getMessage();
        assertTrue(m.contains("no .png files"), m);
        Path broken = Files.createDirectories(tmp.resolve("broken"));
        Files.writeString(broken.resolve("x.png"), "not a png");
        m = assertThrows(DataFormatException.class, () -> Images.readPngFolder(broken)).getMessage();
        assertTrue(m.contains("x.png") && m.contains("not a readable PNG"), m);
    }

    @Test
    void gridIsWrittenReadableWithEachImageInItsCell() throws IOException {
        int h = 3, w = 4, scale = 2;
        List<int[]> imgs = new ArrayList<>();
        for (byte[] b : pattern(5, h, w, 1)) {
            int[] v = new int[b.length];
            for (int i = 0; i < b.length; i++) v[i] = b[i] & 0xff;
            imgs.add(v);
        }
        Path f = tmp.resolve("grid.png");
        Images.writeGrid(f, imgs, h, w, 1, 3, scale);
        BufferedImage g = ImageIO.read(f.toFile());
        assertNotNull(g);
        int gap = 2;
        assertEquals(3 * (w * scale + gap) + gap, g.getWidth());
        assertEquals(2 * (h * scale + gap) + gap, g.getHeight());
        // image 4 is row 1, column 1; its pixel (y 2, x 3), scaled, at the cell's corner plus (3·scale, 2·scale)
        int ox = gap + (w * scale + gap), oy = gap + (h * scale + gap);
        int want = imgs.get(4)[2 * w + 3];
        assertEquals(want * 0x010101, g.getRGB(ox + 3 * scale + 1, oy + 2 * scale + 1) & 0xffffff);
        assertEquals(0x808080, g.getRGB(0, 0) & 0xffffff);   // the gap
        assertThrows(IllegalArgumentException.class, () -> Images.writeGrid(f, List.of(new int[]{300}), 1, 1, 1, 1, 1));
    }

    @Test
    void imageRowsAreBosThenPixelsWithEveryPixelATargetAndNoEos() throws IOException {
        Path f = tmp.resolve("imgs.idx");
        Images.writeIdx(f, pattern(3, 2, 3, 1), 2, 3, 1);
        SequenceData d = new SequenceData(Tokenizer.IMAGE);
        SequenceData.readFiles(List.of(f), Tokenizer.Unknown.MAP_TO_X, d, null, 0, 0, null);
        assertArrayEquals(new int[]{2, 3, 1}, d.imageShape());
        int dims = 6;
        List<SequenceData.Batch> bs = d.evaluationBatches(3, dims, SequenceData.Layout.PAD, false, 0);
        assertEquals(1, bs.size());
        SequenceData.Batch b = bs.get(0);
        assertEquals(3 * dims, b.targetCount(), "every pixel of every image is a target");
        byte[] img1 = pattern(3, 2, 3, 1).get(1);
        assertEquals(Tokenizer.BOS, b.tokens()[dims]);
        for (int t = 0; t < dims; t++) {
            assertEquals(Tokenizer.FIRST_SYMBOL + (img1[t] & 0xff), b.targets()[dims + t]);
            if (t > 0) assertEquals(b.targets()[dims + t - 1], b.tokens()[dims + t]);
            assertEquals(1f, b.keyMask()[dims + t]);
        }
        for (int t : b.targets()) assertTrue(t != Tokenizer.EOS);
        // a second image size in the same set is refused, naming the file
        Path other = tmp.resolve("other.idx");
        Images.writeIdx(other, pattern(1, 3, 3, 1), 3, 3, 1);
        String m = assertThrows(IllegalArgumentException.class, () -> SequenceData.readFiles(List.of(other),
                Tokenizer.Unknown.MAP_TO_X, d, null, 0, 0, null)).getMessage();
        assertTrue(m.contains("other.idx") && m.contains("3x3 grey") && m.contains("2x3 grey"), m);
    }

    @Test
    void bytesHoldOutTheTailAndTextRoundTripsThroughUtf8() throws IOException {
        String text = "Performers in Java: αβγ ✓\n".repeat(40);
        Path f = Files.writeString(tmp.resolve("t.txt"), text);
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        SequenceData train = new SequenceData(Tokenizer.BYTES), valid = new SequenceData(Tokenizer.BYTES);
        int[] rs = SequenceData.readFiles(List.of(f), Tokenizer.Unknown.MAP_TO_X, train, valid, 0, 0.1, null);
        assertArrayEquals(new int[]{1, 0}, rs);
        int held = (int) Math.round(raw.length * 0.1);
        assertEquals(raw.length - held, train.sequence(0).length);
        assertEquals(held, valid.sequence(0).length);
        int[] all = new int[raw.length];
        System.arraycopy(train.sequence(0), 0, all, 0, raw.length - held);
        System.arraycopy(valid.sequence(0), 0, all, raw.length - held, held);
        assertEquals(text, Tokenizer.BYTES.decode(all, 0, all.length), "train then valid is the file");
        assertArrayEquals(Tokenizer.BYTES.encode(text, Tokenizer.Unknown.MAP_TO_X), all);
        assertEquals(Tokenizer.FIRST_SYMBOL + 0xff, Tokenizer.BYTES.encode(new byte[]{(byte) 0xff})[0]);
        assertEquals(Tokenizer.BYTES, SequenceData.detect(f));
        Path empty = Files.write(tmp.resolve("empty"), new byte[0]);
        assertArrayEquals(new int[]{0, 1}, SequenceData.readFiles(List.of(empty), Tokenizer.Unknown.MAP_TO_X,
                new SequenceData(Tokenizer.BYTES), null, 0, 0, null));
    }

    @Test
    void kindsHaveTheirVocabulariesAndRefuseOthersData() throws IOException {
        assertEquals(30, Tokenizer.PROTEIN.vocabSize());
        assertEquals(261, Tokenizer.IMAGE.vocabSize());
        assertEquals(261, Tokenizer.BYTES.vocabSize());
        assertEquals(Tokenizer.IMAGE, Tokenizer.of("Image"));
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.of("audio"));
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.IMAGE.encode("abc", Tokenizer.Unknown.MAP_TO_X));
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.PROTEIN.encode(new byte[]{1}));
        assertThrows(IllegalArgumentException.class, () -> new SequenceData(Tokenizer.PROTEIN).add("x",
                new int[]{Tokenizer.FIRST_SYMBOL + 25}), "a byte symbol is not a residue");
        Path fasta = Files.writeString(tmp.resolve("p.fasta"), "\n>P1\nMKV\n");
        assertEquals(Tokenizer.PROTEIN, SequenceData.detect(fasta));
        SequenceData img = new SequenceData(Tokenizer.IMAGE);
        assertThrows(IllegalArgumentException.class, () -> SequenceData.readAll(List.of(FastaReader.open(fasta)),
                Tokenizer.Unknown.MAP_TO_X, img, null, 0, 0, null));
        assertEquals("MKV", Tokenizer.PROTEIN.decode(Tokenizer.PROTEIN.encode("mkv", Tokenizer.Unknown.MAP_TO_X), 0,
                3));
        assertEquals("0 255", Tokenizer.IMAGE.decode(new int[]{5, 260}, 0, 2));
    }
}
