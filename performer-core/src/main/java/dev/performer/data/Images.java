package dev.performer.data;

import dev.performer.io.AtomicFiles;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;

/**
 * Images as pixel sequences: IDX files (the MNIST format, plain or gzip) and folders of PNG files
 * in, PNG grids out. A (height, width, channels) image becomes height·width·channels symbols in
 * raster order (row by row, left to right, and R, G, B interleaved within a pixel for colour), the
 * layout of the paper's ImageNet64 experiment; grey images have one channel.
 *
 * <p>IDX: a big-endian header {@code 0x00 0x00 0x08 n} (unsigned bytes, n dimensions), then n
 * 32-bit sizes; images are (count, height, width) or (count, height, width, channels), followed by
 * count·height·width·channels bytes.
 */
public final class Images {

    private Images() {}

    /** "28x28 grey" or "64x64 RGB". */
    public static String shape(int[] hwc) {
        return hwc[0] + "x" + hwc[1] + (hwc[2] == 1 ? " grey" : hwc[2] == 3 ? " RGB" : "x" + hwc[2]);
    }

    /** Images read from a file or a folder: their shape and their pixels (count, H·W·C values 0..255). */
    public record Set(String source, int height, int width, int channels, List<byte[]> pixels, List<String> ids) {
        public int count() { return pixels.size(); }
        public int dims() { return height * width * channels; }
    }

    /** Reads an IDX file or a folder of PNG files. */
    public static Set read(Path path) throws IOException {
        if (Files.isDirectory(path)) return readPngFolder(path);
        return readIdx(path);
    }

    /**
     * Reads images (an IDX file, or a folder of PNG files) into train, holding out into valid (when
     * not null) the images whose id hashes into validFraction with the seed. Returns the count read.
     */
    public static int read(Path path, SequenceData train, SequenceData valid, long seed, double validFraction)
            throws IOException {
        return add(read(path), train, valid, seed, validFraction);
    }

    /**
     * Adds images to train, holding out into valid (when not null) those whose id hashes into
     * validFraction with the seed; the sets take the images' shape. Returns the count added.
     */
    public static int add(Set s, SequenceData train, SequenceData valid, long seed, double validFraction) {
        if (train.tokenizer() != Tokenizer.IMAGE) throw new IllegalArgumentException("not an image data set");
        train.imageShape(s.height(), s.width(), s.channels(), s.source());
        if (valid != null) valid.imageShape(s.height(), s.width(), s.channels(), s.source());
        for (int i = 0; i < s.count(); i++) {
            boolean toValid = valid != null && Split.isValidation(s.ids().get(i), seed, validFraction);
            (toValid ? valid : train).add(s.ids().get(i), Tokenizer.IMAGE.encode(s.pixels().get(i)));
        }
        return s.count();
    }

    /** Reads an IDX image file (plain or gzip): errors name the file and what is wrong. */
    public static Set readIdx(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file)) {
            return readIdx(file.toString(), raw);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new DataFormatException(file + ": permission denied");
        }
    }

    /** As {@link #readIdx(Path)} from a stream named name (not closed here). */
    public static Set readIdx(String name, InputStream raw) throws IOException {
        BufferedInputStream b = new BufferedInputStream(raw, 1 << 16);
        b.mark(2);
        int m1 = b.read(), m2 = b.read();
        b.reset();
        DataInputStream in = new DataInputStream(m1 == 0x1f && m2 == 0x8b ? new BufferedInputStream(
                new GZIPInputStream(b, 1 << 16), 1 << 16) : b);
        int magic;
        try {
            magic = in.readInt();
        } catch (EOFException e) {
            throw new DataFormatException(name + ": not an IDX file (shorter than its 4-byte header)");
        }
        int type = (magic >>> 8) & 0xff, dims = magic & 0xff;
        if ((magic >>> 16) != 0 || type < 0x08 || type > 0x0e)
            throw new DataFormatException(String.format(Locale.ROOT,
                    "%s: not an IDX file (magic 0x%08x; an IDX file of images starts 0x00000803)", name, magic));
        if (type != 0x08)
            throw new DataFormatException(String.format(Locale.ROOT,
                    "%s: IDX of type 0x%02x; images must be unsigned bytes (0x08)", name, type));
        if (dims == 1)
            throw new DataFormatException(name + ": an IDX file of 1 dimension (labels?), not images");
        if (dims != 3 && dims != 4)
            throw new DataFormatException(name + ": an IDX file of " + dims + " dimensions; images have 3 (count, "
                    + "height, width) or 4 (and channels)");
        int[] size = new int[dims];
        try {
            for (int i = 0; i < dims; i++) size[i] = in.readInt();
        } catch (EOFException e) {
            throw new DataFormatException(name + ": truncated IDX header (" + dims + " sizes expected)");
        }
        int count = size[0], h = size[1], w = size[2], c = dims == 4 ? size[3] : 1;
        if (count < 0 || h < 1 || w < 1 || (c != 1 && c != 3) || (long) h * w * c > 1 << 24)
            throw new DataFormatException(name + ": IDX sizes " + java.util.Arrays.toString(size)
                    + " are not images (count >= 0, height and width >= 1, 1 or 3 channels, at most 2^24 values)");
        int n = h * w * c;
        List<byte[]> px = new ArrayList<>(count);
        List<String> ids = new ArrayList<>(count);
        String base = Path.of(name).getFileName().toString();
        for (int i = 0; i < count; i++) {
            byte[] img = new byte[n];
            try {
                in.readFully(img);
            } catch (EOFException e) {
                throw new DataFormatException(String.format(Locale.ROOT, "%s: truncated: the header announces %d "
                        + "images of %s (%,d bytes), but the data end in image %d", name, count,
                        shape(new int[]{h, w, c}), (long) count * n, i + 1));
            }
            px.add(img);
            ids.add(base + "#" + i);
        }
        return new Set(name, h, w, c, px, ids);
    }

    /**
     * Reads the PNG files of a folder, sorted by name (ids: file names): grey images (with or
     * without alpha) give one channel, colour ones three (alpha dropped); all must have one shape.
     */
    public static Set readPngFolder(Path folder) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(folder)) {
            files = s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")).sorted()
                    .toList();
        }
        if (files.isEmpty()) throw new DataFormatException(folder + ": no .png files in the folder");
        List<byte[]> px = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        int[] shape = null;
        for (Path f : files) {
            BufferedImage img;
            try {
                img = ImageIO.read(f.toFile());
            } catch (IOException e) {
                throw new DataFormatException(f + ": not a readable PNG (" + e.getMessage() + ")");
            }
            if (img == null) throw new DataFormatException(f + ": not a readable PNG");
            int bands = img.getRaster().getNumBands();
            int c = bands <= 2 ? 1 : 3;
            int[] s = {img.getHeight(), img.getWidth(), c};
            if (shape == null) shape = s;
            else if (!java.util.Arrays.equals(shape, s))
                throw new DataFormatException(f + ": an image of " + shape(s) + ", but " + files.get(0).getFileName()
                        + " is " + shape(shape) + "; the images of a folder must have one size");
            px.add(pixels(img, c));
            ids.add(f.getFileName().toString());
        }
        return new Set(folder.toString(), shape[0], shape[1], shape[2], px, ids);
    }

    /** The H·W·C values of an image in raster order, 8 bits each (16-bit PNGs are scaled down). */
    private static byte[] pixels(BufferedImage img, int c) {
        int h = img.getHeight(), w = img.getWidth();
        byte[] out = new byte[h * w * c];
        Raster r = img.getRaster();
        int bits = img.getColorModel().getComponentSize(0);
        boolean indexed = img.getType() == BufferedImage.TYPE_BYTE_INDEXED || img.getType()
                == BufferedImage.TYPE_BYTE_BINARY;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                if (indexed || (c == 3 && r.getNumBands() < 3)) {   // palette: through the colour model
                    int rgb = img.getRGB(x, y);
                    if (c == 1) out[y * w + x] = (byte) (rgb & 0xff);
                    else {
                        int o = (y * w + x) * 3;
                        out[o] = (byte) (rgb >> 16); out[o + 1] = (byte) (rgb >> 8); out[o + 2] = (byte) rgb;
                    }
                    continue;
                }
                for (int k = 0; k < c; k++) {
                    int v = r.getSample(x, y, k);
                    out[(y * w + x) * c + k] = (byte) (bits > 8 ? v >> (bits - 8) : v);
                }
            }
        return out;
    }

    /**
     * Writes images (each H·W·C values 0..255, raster order) as one PNG grid of the given columns,
     * each image scaled by an integer factor, separated by a 2-pixel mid-grey gap; atomically.
     */
    public static void writeGrid(Path target, List<int[]> images, int height, int width, int channels, int columns,
                                 int scale) throws IOException {
        if (images.isEmpty()) throw new IllegalArgumentException("no images to write");
        if (columns < 1 || scale < 1) throw new IllegalArgumentException("columns and scale must be >= 1");
        int n = height * width * channels, gap = 2;
        int cols = Math.min(columns, images.size()), rows = (images.size() + cols - 1) / cols;
        int cw = width * scale + gap, ch = height * scale + gap;
        BufferedImage grid = new BufferedImage(cols * cw + gap, rows * ch + gap, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < grid.getHeight(); y++)
            for (int x = 0; x < grid.getWidth(); x++) grid.setRGB(x, y, 0x808080);
        for (int i = 0; i < images.size(); i++) {
            int[] img = images.get(i);
            if (img.length != n)
                throw new IllegalArgumentException("image " + i + " has " + img.length + " values, not " + n);
            int ox = gap + (i % cols) * cw, oy = gap + (i / cols) * ch;
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++) {
                    int o = (y * width + x) * channels;
                    int rgb = channels == 1 ? level(img[o]) * 0x010101
                            : (level(img[o]) << 16) | (level(img[o + 1]) << 8) | level(img[o + 2]);
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++) grid.setRGB(ox + x * scale + dx, oy + y * scale + dy, rgb);
                }
        }
        Path tmp = AtomicFiles.temporaryFor(target);
        try {
            if (!ImageIO.write(grid, "png", tmp.toFile())) throw new IOException("no PNG writer in this JVM");
            AtomicFiles.publish(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static int level(int v) {
        if (v < 0 || v > 255) throw new IllegalArgumentException("pixel value " + v + " outside 0..255");
        return v;
    }

    /**
     * Writes images as an IDX file of unsigned bytes, (count, H, W) for one channel or (count, H, W,
     * C), gzip-compressed when the name ends with .gz; atomically. (Tests and samples.)
     */
    public static void writeIdx(Path target, List<byte[]> images, int height, int width, int channels)
            throws IOException {
        Path tmp = AtomicFiles.temporaryFor(target);
        try {
            try (java.io.OutputStream f = Files.newOutputStream(tmp);
                 java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
                         target.toString().endsWith(".gz") ? new java.util.zip.GZIPOutputStream(f) : f))) {
                int dims = channels == 1 ? 3 : 4;
                out.writeInt(0x0800 | dims);
                out.writeInt(images.size());
                out.writeInt(height);
                out.writeInt(width);
                if (dims == 4) out.writeInt(channels);
                for (byte[] img : images) {
                    if (img.length != height * width * channels)
                        throw new IllegalArgumentException("an image of " + img.length + " values, not "
                                + height * width * channels);
                    out.write(img);
                }
            }
            AtomicFiles.publish(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
