package dev.performer.data;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Streams the records of a FASTA file (plain, or gzip by its magic bytes), one at a time; a
 * record's sequence may span many lines. Blank lines are ignored. A file with no record, or
 * with sequence text before the first header, is an error naming the file and line.
 */
public final class FastaReader implements Iterator<FastaReader.Record>, Closeable {

    /** One record: the id (first word of the header), the rest of the header, and the sequence. */
    public record Record(String id, String description, String sequence, int line) {}

    /** A malformed or unreadable input: the message names the file and the line. */
    public static final class FormatException extends DataFormatException {
        public FormatException(String msg) { super(msg); }
    }

    private final String name;
    private final BufferedReader in;
    private String pendingHeader;
    private int pendingLine, lineNo, records;
    private Record next;

    private FastaReader(String name, InputStream raw) throws IOException {
        this.name = name;
        BufferedInputStream b = new BufferedInputStream(raw, 1 << 16);
        b.mark(2);
        int m1 = b.read(), m2 = b.read();
        b.reset();
        InputStream s = (m1 == 0x1f && m2 == 0x8b) ? new GZIPInputStream(b, 1 << 16) : b;
        this.in = new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8), 1 << 16);
        advance();
        if (next == null)
            throw new FormatException(name + ": no FASTA record (empty file, or no line starting with '>')");
    }

    public static FastaReader open(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new FormatException(file + " is a folder, not a FASTA file");
        try {
            return new FastaReader(file.toString(), Files.newInputStream(file));
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new FormatException(file + ": permission denied");
        }
    }

    public static FastaReader open(String name, InputStream in) throws IOException { return new FastaReader(name, in); }

    private void advance() throws IOException {
        next = null;
        String header = pendingHeader;
        int headerLine = pendingLine;
        StringBuilder seq = new StringBuilder();
        String line;
        while ((line = readLine()) != null) {
            lineNo++;
            if (lineNo == 1 && line.startsWith("\uFEFF")) line = line.substring(1);   // a UTF-8 byte-order mark
            String t = line.strip();
            if (t.isEmpty()) continue;
            if (t.charAt(0) == '>') {
                if (header != null) {
                    pendingHeader = t;
                    pendingLine = lineNo;
                    next = record(header, headerLine, seq);
                    return;
                }
                header = t;
                headerLine = lineNo;
            } else {
                if (header == null)
                    throw new FormatException(name + ":" + lineNo + ": sequence text before the first '>' header");
                for (int i = 0; i < t.length(); i++) {
                    char c = t.charAt(i);
                    if (c < 0x20 && c != '\t' || c == 0x7f || c == '\uFFFD')
                        throw new FormatException(name + ":" + lineNo + ":" + (i + 1) + ": not text (byte "
                                + (c == '\uFFFD' ? "outside UTF-8" : String.format("0x%02x", (int) c))
                                + "): a binary file?");
                }
                seq.append(t);
            }
        }
        pendingHeader = null;
        if (header != null) next = record(header, headerLine, seq);
    }

    /** The next line; a damaged or cut-off gzip stream or a failed read is a FormatException naming the file. */
    private String readLine() throws IOException {
        try {
            return in.readLine();
        } catch (EOFException | ZipException e) {
            throw new FormatException(name + ": truncated or damaged gzip data after line " + lineNo + " ("
                    + e.getMessage() + ")");
        } catch (IOException e) {
            throw new FormatException(name + ": read failed after line " + lineNo + " (" + e.getMessage() + ")");
        }
    }

    private Record record(String header, int line, StringBuilder seq) throws FormatException {
        String h = header.substring(1).strip();
        if (h.isEmpty()) throw new FormatException(name + ":" + line + ": empty header");
        int sp = h.indexOf(' ');
        records++;
        return new Record(sp < 0 ? h : h.substring(0, sp), sp < 0 ? "" : h.substring(sp + 1), seq.toString(), line);
    }

    @Override public boolean hasNext() { return next != null; }

    @Override
    public Record next() {
        if (next == null) throw new NoSuchElementException();
        Record r = next;
        try {
            advance();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return r;
    }

    public String name() { return name; }

    @Override public void close() throws IOException { in.close(); }
}
