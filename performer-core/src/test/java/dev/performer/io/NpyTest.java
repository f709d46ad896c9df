package dev.performer.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

    @TempDir
    Path tmp;

    @Test
    void float32AndFloat64RoundTrip() throws IOException {
        float[] f = {1.5f, -2f, Float.MIN_VALUE, 3e38f, 0f, -0f};
        Npy.writeFloat32(tmp.resolve("f.npy"), new int[]{2, 3}, f);
        Npy.Array a = Npy.read(tmp.resolve("f.npy"));
        assertArrayEquals(new int[]{2, 3}, a.shape());
        assertEquals("<f4", a.dtype());
        assertArrayEquals(f, a.toFloats());
        double[] d = {Math.PI, -1e-300, 7};
        Npy.writeFloat64(tmp.resolve("d.npy"), new int[]{3}, d);
        Npy.Array b = Npy.read(tmp.resolve("d.npy"));
        assertArrayEquals(new int[]{3}, b.shape());
        assertArrayEquals(d, b.data());
        // header is padded so that the data starts at a multiple of 64 bytes (NumPy's own layout)
        byte[] raw = Files.readAllBytes(tmp.resolve("d.npy"));
        int headerLen = (raw[8] & 0xff) | (raw[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLen) % 64);
        assertEquals('\n', raw[10 + headerLen - 1]);
    }

    @Test
    void readsBigEndianAndIntegerMasksAsNumPyWritesThem() throws IOException {
        String header = "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }";
        ByteBuffer bb = ByteBuffer.allocate(10 + header.length() + 1 + 16);
        bb.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0);
        bb.order(ByteOrder.LITTLE_ENDIAN).putShort((short) (header.length() + 1));
        bb.put((header + "\n").getBytes(StandardCharsets.ISO_8859_1));
        bb.order(ByteOrder.BIG_ENDIAN).putDouble(2.5).putDouble(-4);
        Npy.Array a = Npy.parse("be.npy", bb.array());
        assertArrayEquals(new double[]{2.5, -4}, a.data());
        String h2 = "{'descr': '|b1', 'fortran_order': False, 'shape': (1, 3), }\n";
        ByteBuffer m = ByteBuffer.allocate(10 + h2.length() + 3).order(ByteOrder.LITTLE_ENDIAN);
        m.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0)
                .putShort((short) h2.length());
        m.put(h2.getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0).put((byte) 1);
        assertArrayEquals(new double[]{1, 0, 1}, Npy.parse("mask.npy", m.array()).data());
    }

    @Test
    void malformedFilesAreNamedErrors() {
        Npy.FormatException e = assertThrows(Npy.FormatException.class,
                () -> Npy.parse("x.npy", "hello world".getBytes()));
        assertTrue(e.getMessage().startsWith("x.npy: not a .npy file"));
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n";
        ByteBuffer bb = ByteBuffer.allocate(10 + header.length() + 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0)
                .putShort((short) header.length());
        bb.put(header.getBytes(StandardCharsets.ISO_8859_1));
        e = assertThrows(Npy.FormatException.class, () -> Npy.parse("short.npy", bb.array()));
        assertTrue(e.getMessage().contains("short.npy: file holds 8 data bytes"), e.getMessage());
        String fortran = "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n";
        ByteBuffer f = ByteBuffer.allocate(10 + fortran.length() + 4).order(ByteOrder.LITTLE_ENDIAN);
        f.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0)
                .putShort((short) fortran.length());
        f.put(fortran.getBytes(StandardCharsets.ISO_8859_1));
        e = assertThrows(Npy.FormatException.class, () -> Npy.parse("f.npy", f.array()));
        assertTrue(e.getMessage().contains("Fortran-order"));
    }
}
