package dev.performer.train;

import dev.performer.io.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * ({@code name: {dtype, shape, data_offsets}} and string {@code __metadata__}), then the raw
 * little-endian tensor bytes. Only F32 tensors are written and read here. Writes go to a
 * temporary file that is then renamed over the target.
 */
public final class SafeTensors {

    /** A tensor to write: name, shape and data (float32, row-major), taken from data[offset, offset+size). */
    public record Tensor(String name, int[] shape, float[] data, int offset) {
        int size() { int n = 1; for (int s : shape) n *= s; return n; }
    }

    /** A read file: its metadata and tensors. */
    public record Contents(Map<String, String> metadata, Map<String, float[]> tensors, Map<String, int[]> shapes) {}

    private SafeTensors() {}

    public static void write(Path file, Map<String, String> metadata, List<Tensor> tensors) throws IOException {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{");
        int k = 0;
        for (var e : metadata.entrySet())
            h.append(k++ > 0 ? "," : "").append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
        h.append('}');
        long off = 0;
        for (Tensor t : tensors) {
            h.append(',').append(Json.quote(t.name())).append(":{\"dtype\":\"F32\",\"shape\":[");
            for (int i = 0; i < t.shape().length; i++) h.append(i > 0 ? "," : "").append(t.shape()[i]);
            long end = off + 4L * t.size();
            h.append("],\"data_offsets\":[").append(off).append(',').append(end).append("]}");
            off = end;
        }
        h.append('}');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - header.length % 8) % 8; // keep the data 8-byte aligned, as the reference writer does
        byte[] padded = new byte[header.length + pad];
        System.arraycopy(header, 0, padded, 0, header.length);
        for (int i = header.length; i < padded.length; i++) padded[i] = ' ';
        Path tmp = dev.performer.io.AtomicFiles.temporaryFor(file);
        try (OutputStream os = Files.newOutputStream(tmp)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length);
            os.write(len.array());
            os.write(padded);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors) {
                for (int i = 0; i < t.size(); i++) {
                    if (!buf.hasRemaining()) { os.write(buf.array(), 0, buf.position()); buf.clear(); }
                    buf.putFloat(t.data()[t.offset() + i]);
                }
            }
            os.write(buf.array(), 0, buf.position());
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        dev.performer.io.AtomicFiles.publish(tmp, file);
    }

    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new IOException(file + ": not a safetensors file (too short)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(lenBuf, 0);
            long hl = lenBuf.getLong(0);
            if (hl <= 0 || hl > size - 8 || hl > 100_000_000)
                throw new IOException(file + ": not a safetensors file (header length " + hl + ")");
            ByteBuffer hb = ByteBuffer.allocate((int) hl);
            ch.read(hb, 8);
            Object parsed;
            try {
                parsed = Json.parse(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
                throw new IOException(file + ": bad safetensors header (" + e.getMessage() + ")");
            }
            Map<String, Object> header = object(file, "the header", parsed);
            Map<String, String> meta = new LinkedHashMap<>();
            Map<String, float[]> tensors = new LinkedHashMap<>();
            Map<String, int[]> shapes = new LinkedHashMap<>();
            long base = 8 + hl;
            for (var e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    object(file, "__metadata__", e.getValue()).forEach((k, v) -> meta.put(k, String.valueOf(v)));
                    continue;
                }
                String what = "tensor " + e.getKey();
                Map<String, Object> t = object(file, what, e.getValue());
                if (!"F32".equals(t.get("dtype")))
                    throw new IOException(file + ": " + what + " has dtype " + t.get("dtype")
                            + ", only F32 is supported");
                List<Long> sh = longs(file, what + " shape", t.get("shape"), -1);
                List<Long> offs = longs(file, what + " data_offsets", t.get("data_offsets"), 2);
                int[] shape = new int[sh.size()];
                long n = 1;
                for (int i = 0; i < shape.length; i++) {
                    long d = sh.get(i);
                    if (d < 0 || d > Integer.MAX_VALUE || (n *= d) > Integer.MAX_VALUE - 8)
                        throw new IOException(file + ": " + what + " has an impossible shape " + sh);
                    shape[i] = (int) d;
                }
                long from = offs.get(0), to = offs.get(1);
                if (from < 0 || to - from != 4 * n || base + to > size)
                    throw new IOException(file + ": " + what + " has inconsistent offsets");
                ByteBuffer data = ByteBuffer.allocate((int) (to - from)).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(data, base + from);
                data.flip();
                float[] f = new float[(int) n];
                data.asFloatBuffer().get(f);
                tensors.put(e.getKey(), f);
                shapes.put(e.getKey(), shape);
            }
            return new Contents(meta, tensors, shapes);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Path file, String what, Object v) throws IOException {
        if (!(v instanceof Map)) throw new IOException(file + ": " + what + " is not a JSON object");
        return (Map<String, Object>) v;
    }

    /** A JSON array of whole numbers (of the given length, or any when -1). */
    private static List<Long> longs(Path file, String what, Object v, int length) throws IOException {
        if (!(v instanceof List<?> l) || (length >= 0 && l.size() != length)
                || !l.stream().allMatch(x -> x instanceof Long))
            throw new IOException(file + ": " + what + " is " + (v == null ? "missing" : v) + ", not "
                    + (length >= 0 ? length + " " : "a list of ") + "whole numbers");
        return l.stream().map(x -> (Long) x).toList();
    }
}
