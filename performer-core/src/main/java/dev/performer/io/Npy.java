package dev.performer.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files (format versions 1, 2 and 3), C order. Reads little- and big-endian
 * float32, float64, int8/16/32/64, uint8 and bool; writes float32 or float64, atomically
 * (temporary file, then rename).
 */
public final class Npy {

    private Npy() {}

    /** An array read from a file: its shape, dtype descriptor and values (as doubles). */
    public record Array(int[] shape, String dtype, double[] data) {
        public Array {
            long n = 1;
            for (int s : shape) n *= s;
            if (n != data.length)
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
                        + " values, not " + data.length);
        }

        public float[] toFloats() {
            float[] f = new float[data.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
            return f;
        }

        public String shapeString() { return shapeString(shape); }

        static String shapeString(int[] shape) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < shape.length; i++) sb.append(i > 0 ? "," : "").append(shape[i]);
            return sb.append(")").toString();
        }
    }

    /** A user-facing error: the message names the file and what is wrong with it. */
    public static final class FormatException extends IOException {
        public FormatException(String msg) { super(msg); }
    }

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    public static Array read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return parse(file.toString(), bytes);
    }

    static Array parse(String name, byte[] bytes) throws FormatException {
        if (bytes.length < 10 || (bytes[0] & 0xff) != 0x93
                || !new String(bytes, 1, 5, StandardCharsets.ISO_8859_1).equals("NUMPY"))
            throw new FormatException(name + ": not a .npy file (bad magic)");
        int major = bytes[6];
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen, start;
        if (major == 1) { headerLen = bb.getShort(8) & 0xffff; start = 10; }
        else if (major == 2 || major == 3) {
            if (bytes.length < 12) throw new FormatException(name + ": truncated header");
            headerLen = bb.getInt(8); start = 12;
        } else throw new FormatException(name + ": unsupported .npy version " + major);
        if (headerLen < 0 || (long) start + headerLen > bytes.length)
            throw new FormatException(name + ": truncated header");
        String header = new String(bytes, start, headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher md = DESCR.matcher(header), mf = FORTRAN.matcher(header), ms = SHAPE.matcher(header);
        if (!md.find() || !mf.find() || !ms.find())
            throw new FormatException(name + ": malformed header " + header.trim());
        if (mf.group(1).equals("True"))
            throw new FormatException(name + ": Fortran-order arrays are not supported (save with C order)");
        List<Integer> dims = new ArrayList<>();
        for (String part : ms.group(1).split(",")) {
            String p = part.trim();
            if (p.isEmpty()) continue;
            try { dims.add(Integer.parseInt(p.replace("L", ""))); }
            catch (NumberFormatException e) { throw new FormatException(name + ": bad shape entry '" + p + "'"); }
        }
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        long count = 1;
        for (int s : shape) { if (s < 0) throw new FormatException(name + ": negative dimension"); count *= s; }
        String descr = md.group(1);
        char order = descr.charAt(0);
        String type = descr.substring(1);
        ByteOrder bo = order == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        int size = switch (type) {
            case "f4", "i4", "u4" -> 4;
            case "f8", "i8", "u8" -> 8;
            case "i2", "u2" -> 2;
            case "i1", "u1", "b1" -> 1;
            default -> throw new FormatException(name + ": unsupported dtype '" + descr + "' (use float32 or float64)");
        };
        int dataStart = start + headerLen;
        if (count * size > bytes.length - dataStart)
            throw new FormatException(name + ": file holds " + (bytes.length - dataStart) + " data bytes, shape "
                    + Array.shapeString(shape) + " of " + descr + " needs " + count * size);
        if (count > Integer.MAX_VALUE - 8) throw new FormatException(name + ": too many elements (" + count + ")");
        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) (count * size)).slice().order(bo);
        double[] out = new double[(int) count];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (type) {
                case "f4" -> data.getFloat(i * 4);
                case "f8" -> data.getDouble(i * 8);
                case "i4" -> data.getInt(i * 4);
                case "u4" -> Integer.toUnsignedLong(data.getInt(i * 4));
                case "i8" -> data.getLong(i * 8);
                case "u8" -> data.getLong(i * 8);
                case "i2" -> data.getShort(i * 2);
                case "u2" -> data.getShort(i * 2) & 0xffff;
                case "i1" -> data.get(i);
                default -> data.get(i) & 0xff; // u1, b1
            };
        }
        return new Array(shape, descr, out);
    }

    /** Writes float32 data with the given shape (atomically). */
    public static void writeFloat32(Path file, int[] shape, float[] data) throws IOException {
        checkCount(shape, data.length);
        ByteBuffer bb = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) bb.putFloat(f);
        write(file, "<f4", shape, bb.array());
    }

    /** Writes float64 data with the given shape (atomically). */
    public static void writeFloat64(Path file, int[] shape, double[] data) throws IOException {
        checkCount(shape, data.length);
        ByteBuffer bb = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double f : data) bb.putDouble(f);
        write(file, "<f8", shape, bb.array());
    }

    private static void checkCount(int[] shape, int n) {
        long c = 1;
        for (int s : shape) c *= s;
        if (c != n)
            throw new IllegalArgumentException("shape " + Array.shapeString(shape) + " holds " + c
                    + " values, data has " + n);
    }

    private static void write(Path file, String descr, int[] shape, byte[] payload) throws IOException {
        StringBuilder sh = new StringBuilder();
        for (int s : shape) sh.append(s).append(", ");
        String shapeStr = shape.length == 1 ? shape[0] + "," : sh.substring(0, Math.max(0, sh.length() - 2));
        String dict = String.format(Locale.ROOT, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                descr, shapeStr);
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer pre = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        pre.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0)
                .putShort((short) header.length());
        Path tmp = AtomicFiles.temporaryFor(file);
        try (OutputStream os = Files.newOutputStream(tmp)) {
            os.write(pre.array());
            os.write(header.getBytes(StandardCharsets.ISO_8859_1));
            os.write(payload);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        AtomicFiles.publish(tmp, file);
    }
}
