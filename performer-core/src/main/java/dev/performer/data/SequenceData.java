package dev.performer.data;

import dev.performer.random.Seeds;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Tokenized sequences of one {@link Tokenizer kind} (proteins, images, bytes) and the batches a
 * language model trains on. Readers: {@link #readFiles} (every kind; FASTA for proteins),
 * {@link Images} for images, {@link #readBytes} for bytes.
 *
 * <p>Two layouts: {@link Layout#PAD} (one record per row: BOS, symbols, EOS (not for images, whose
 * size is fixed), clipped to a random window when longer than L, padded with PAD) and
 * {@link Layout#CONCAT} (all records joined with SEP into one stream, rows are windows of L; the
 * paper's L = 8192 setting). Two objectives:
 * masked LM (15% of residues selected; of those 80% become MASK, 10% a random residue, 10% stay;
 * the targets are the original residues) and next-token LM (targets are the following token).
 */
public final class SequenceData {

    public enum Layout { PAD, CONCAT }

    private final Tokenizer tokenizer;
    private final List<String> ids = new ArrayList<>();
    private final List<int[]> seqs = new ArrayList<>();
    private int[] stream; // CONCAT layout, built on demand
    private int[] rowScratch; // (B, L+1) rows of the last sample

    /** One batch: tokens and targets (B·L, -1 = no target), key mask (B·L, 1 keep / 0 padding). */
    public record Batch(int batch, int length, int[] tokens, int[] targets, float[] keyMask) {
        public int targetCount() {
            int n = 0;
            for (int t : targets) if (t >= 0) n++;
            return n;
        }

        /** Rows [from, to) as a batch of their own (copies): one shard of a data-parallel step. */
        public Batch rows(int from, int to) {
            if (from < 0 || to > batch || from >= to)
                throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a batch of " + batch);
            int a = from * length, z = to * length;
            return new Batch(to - from, length, java.util.Arrays.copyOfRange(tokens, a, z),
                    java.util.Arrays.copyOfRange(targets, a, z), java.util.Arrays.copyOfRange(keyMask, a, z));
        }
    }

    private int[] imageShape; // IMAGE: {height, width, channels} of every record, once known

    /** An empty set of protein sequences. */
    public SequenceData() { this(Tokenizer.PROTEIN); }

    /** An empty set of sequences of the given kind. */
    public SequenceData(Tokenizer tokenizer) {
        if (tokenizer == null) throw new IllegalArgumentException("tokenizer must be given");
        this.tokenizer = tokenizer;
    }

    public Tokenizer tokenizer() { return tokenizer; }

    /** Images: {height, width, channels} of every record, or null before the first image (or for other kinds). */
    public int[] imageShape() { return imageShape == null ? null : imageShape.clone(); }

    /**
     * Images: sets the shape every record has (set by {@link Images#read}); a second, different shape
     * is refused naming the source.
     */
    public void imageShape(int height, int width, int channels, String source) {
        int[] s = {height, width, channels};
        if (imageShape != null && !java.util.Arrays.equals(imageShape, s))
            throw new IllegalArgumentException(source + ": images of " + Images.shape(s) + ", but earlier ones are "
                    + Images.shape(imageShape) + "; one model takes one image size");
        imageShape = s;
    }

    public int size() { return seqs.size(); }
    public long residues() { long n = 0; for (int[] s : seqs) n += s.length; return n; }
    public String id(int i) { return ids.get(i); }
    public int[] sequence(int i) { return seqs.get(i); }

    /** The first n records (all when there are fewer), as a new set of the same kind and image shape. */
    public SequenceData head(int n) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        SequenceData out = new SequenceData(tokenizer);
        out.imageShape = imageShape;
        for (int i = 0; i < Math.min(n, size()); i++) out.add(ids.get(i), seqs.get(i));
        return out;
    }

    public void add(String id, int[] seq) {
        for (int t : seq)
            if (t < Tokenizer.FIRST_SYMBOL || t >= tokenizer.vocabSize())
                throw new IllegalArgumentException("record " + id + ": token " + t + " is not a " + tokenizer.id()
                        + " symbol");
        ids.add(id);
        seqs.add(seq);
        stream = null;
    }

    /** FASTA files read into a training and a validation part, with the counts of records read and skipped. */
    public record Corpus(SequenceData train, SequenceData valid, int read, int skipped) {}

    /**
     * Reads FASTA files (plain or .gz), holding out the records whose id hashes (with the seed)
     * into validFraction; letters outside the alphabet become X, silently (see
     * {@link #readFiles} for other policies and for warnings).
     */
    public static Corpus load(List<Path> files, double validFraction, long seed) throws IOException {
        if (!(validFraction >= 0 && validFraction < 1))
            throw new IllegalArgumentException("validation fraction must be in [0, 1), got " + validFraction);
        SequenceData train = new SequenceData(), valid = new SequenceData();
        int[] rs = readFiles(files, Tokenizer.Unknown.MAP_TO_X, train, valid, seed, validFraction, null);
        return new Corpus(train, valid, rs[0], rs[1]);
    }

    /**
     * Reads files of the training part's kind into a training part and a validation part, which
     * is left out when {@code valid} is null (then all go to train). Returns {read, skipped}.
     * <ul>
     *   <li>Proteins: FASTA (plain or .gz); records whose id hashes into the validation fraction
     *       (seeded) go to {@code valid}. Characters outside the alphabet are reported with the
     *       record id on {@code warn} and mapped to X or skip the record, per the policy.</li>
     *   <li>Images: IDX files (plain or .gz) or folders of PNG files ({@link Images}); held out by the
     *       hash of the image's id (file and index, or file name).</li>
     *   <li>Bytes: every file is one record; the last validFraction of its bytes are held out (a
     *       contiguous tail, as byte-level benchmarks split).</li>
     * </ul>
     */
    public static int[] readFiles(List<Path> files, Tokenizer.Unknown policy, SequenceData train, SequenceData valid,
                                  long seed, double validFraction, PrintStream warn) throws IOException {
        if (valid != null && valid.tokenizer != train.tokenizer)
            throw new IllegalArgumentException("training and validation parts of different kinds");
        switch (train.tokenizer) {
            case IMAGE -> {
                int read = 0;
                for (Path f : files) read += Images.read(f, train, valid, seed, validFraction);
                return new int[]{read, 0};
            }
            case BYTES -> {
                int read = 0, skipped = 0;
                for (Path f : files) {
                    if (readBytes(f, train, valid, validFraction)) read++;
                    else skipped++;
                }
                return new int[]{read, skipped};
            }
            default -> { }
        }
        List<FastaReader> readers = new ArrayList<>();
        for (Path f : files) readers.add(FastaReader.open(f));
        return readAll(readers, policy, train, valid, seed, validFraction, warn);
    }

    /**
     * Bytes: one file as one record (its path as id); with {@code valid}, the last validFraction of
     * the bytes (at least one byte when the fraction is positive and the file has two) go to valid.
     * Returns false for an empty file (nothing added).
     */
    public static boolean readBytes(Path file, SequenceData train, SequenceData valid, double validFraction)
            throws IOException {
        if (train.tokenizer != Tokenizer.BYTES) throw new IllegalArgumentException("not a bytes data set");
        if (java.nio.file.Files.isDirectory(file))
            throw new IOException(file + ": a folder; bytes data are files (list them with commas)");
        byte[] all;
        try {
            all = java.nio.file.Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new DataFormatException(file + ": no such file");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new DataFormatException(file + ": permission denied");
        }
        if (all.length == 0) return false;
        int held = valid == null || validFraction == 0 ? 0
                : (int) Math.min(all.length - 1, Math.max(1, Math.round(all.length * validFraction)));
        int cut = all.length - held;
        train.add(file.toString(), Tokenizer.BYTES.encode(java.util.Arrays.copyOf(all, cut)));
        if (held > 0) valid.add(file + "@" + cut, Tokenizer.BYTES.encode(java.util.Arrays.copyOfRange(all, cut,
                all.length)));
        return true;
    }

    /** As {@link #readFiles} from open FASTA readers (closed here), for proteins. */
    public static int[] readAll(List<FastaReader> readers, Tokenizer.Unknown policy, SequenceData train,
                                SequenceData valid, long seed, double validFraction, PrintStream warn)
            throws IOException {
        if (train.tokenizer != Tokenizer.PROTEIN)
            throw new IllegalArgumentException("FASTA records are proteins; this is a " + train.tokenizer.id()
                    + " data set");
        int read = 0, skipped = 0, reported = 0;
        for (FastaReader fr : readers) {
            String f = fr.name();
            try (FastaReader r = fr) {
                while (r.hasNext()) {
                    FastaReader.Record rec = r.next();
                    read++;
                    int bad = Tokenizer.PROTEIN.firstUnknown(rec.sequence());
                    if (bad >= 0 && reported++ < 20 && warn != null)
                        warn.printf("%s:%d: record %s has '%c' at residue %d: %s%n", f, rec.line(), rec.id(),
                                rec.sequence().charAt(bad), bad + 1,
                                policy == Tokenizer.Unknown.SKIP_RECORD ? "record skipped" : "mapped to X");
                    int[] toks = Tokenizer.PROTEIN.encode(rec.sequence(), policy);
                    if (toks == null || toks.length == 0) { skipped++; continue; }
                    boolean toValid = valid != null && Split.isValidation(rec.id(), seed, validFraction);
                    (toValid ? valid : train).add(rec.id(), toks);
                }
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
        }
        if (reported > 20 && warn != null)
            warn.printf("(%d more records with unknown characters not listed)%n", reported - 20);
        return new int[]{read, skipped};
    }

    /**
     * The kind of data in a file or folder: a folder of PNG files or an IDX file (plain or gzip) is
     * images, a text whose first non-blank character is '>' (or a ';' comment) is FASTA (proteins),
     * anything else is bytes.
     */
    public static Tokenizer detect(Path path) throws IOException {
        if (java.nio.file.Files.isDirectory(path)) return Tokenizer.IMAGE;
        if (!java.nio.file.Files.exists(path)) throw new DataFormatException(path + ": no such file");
        byte[] head = new byte[256];
        int n;
        try (java.io.InputStream raw = new java.io.BufferedInputStream(java.nio.file.Files.newInputStream(path))) {
            raw.mark(2);
            int m1 = raw.read(), m2 = raw.read();
            raw.reset();
            java.io.InputStream in = m1 == 0x1f && m2 == 0x8b ? new java.util.zip.GZIPInputStream(raw) : raw;
            n = in.readNBytes(head, 0, head.length);
        } catch (java.util.zip.ZipException e) {
            return Tokenizer.BYTES;
        }
        if (n >= 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08 && (head[3] == 3 || head[3] == 4))
            return Tokenizer.IMAGE;
        int from = n >= 3 && (head[0] & 0xff) == 0xef && (head[1] & 0xff) == 0xbb && (head[2] & 0xff) == 0xbf ? 3 : 0;
        for (int i = from; i < n; i++) {   // after a UTF-8 byte order mark, if any
            if (Character.isWhitespace(head[i])) continue;
            return head[i] == '>' || head[i] == ';' ? Tokenizer.PROTEIN : Tokenizer.BYTES;
        }
        return Tokenizer.BYTES;
    }

    /** A random training batch for a step: the same (seed, step) always gives the same batch. */
    public Batch sample(int b, int l, Layout layout, boolean masked, long seed, long step) {
        return sample(b, l, layout, masked, seed, step, null);
    }

    /**
     * As {@link #sample(int, int, Layout, boolean, long, long)}, written into {@code into} when it
     * has the shape (B, L) (a training loop passes its previous batch: no allocation per step), else
     * into a new batch. Returns the batch written. Not thread-safe (one row scratch per instance).
     */
    public Batch sample(int b, int l, Layout layout, boolean masked, long seed, long step, Batch into) {
        if (seqs.isEmpty()) throw new IllegalStateException("no sequences to sample from");
        SplittableRandom r = new SplittableRandom(Seeds.batch(seed, step));
        if (rowScratch == null || rowScratch.length != b * (l + 1)) rowScratch = new int[b * (l + 1)];
        int[] rows = rowScratch;
        for (int i = 0; i < b; i++) {
            if (layout == Layout.CONCAT) concatWindow(r, rows, i * (l + 1), l + 1);
            else padRow(seqs.get(r.nextInt(seqs.size())), r, rows, i * (l + 1), l + 1);
        }
        Batch out = into != null && into.batch() == b && into.length() == l ? into
                : new Batch(b, l, new int[b * l], new int[b * l], new float[b * l]);
        objective(rows, b, l, masked, r, out);
        return out;
    }

    /**
     * Evaluation batches: every record once (its first window), masked with a fixed seed. Every
     * batch has B rows: the last one is completed with padding rows (all PAD, key mask 0, no
     * targets), which change no metric and let a model keep its activation buffers of shape (B, L).
     */
    public List<Batch> evaluationBatches(int b, int l, Layout layout, boolean masked, long seed) {
        List<Batch> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(seed);
        if (layout == Layout.CONCAT) {
            int[] s = stream();
            int windows = Math.max(1, (s.length - 1) / l);
            for (int w0 = 0; w0 < windows; w0 += b) {
                int n = Math.min(b, windows - w0);
                int[] rows = new int[b * (l + 1)];
                java.util.Arrays.fill(rows, Tokenizer.PAD);
                for (int i = 0; i < n; i++) {
                    int from = (w0 + i) * l;
                    System.arraycopy(s, from, rows, i * (l + 1), Math.min(l + 1, s.length - from));
                }
                out.add(objective(rows, b, l, masked, r));
            }
            return out;
        }
        for (int s0 = 0; s0 < seqs.size(); s0 += b) {
            int n = Math.min(b, seqs.size() - s0);
            int[] rows = new int[b * (l + 1)];
            java.util.Arrays.fill(rows, Tokenizer.PAD);
            for (int i = 0; i < n; i++) padRow(seqs.get(s0 + i), null, rows, i * (l + 1), l + 1);
            out.add(objective(rows, b, l, masked, r));
        }
        return out;
    }

    /**
     * BOS, symbols, EOS (none for images) into a row of width w (a random window when too long; the first when
     * r is null), PAD after.
     */
    private void padRow(int[] seq, SplittableRandom r, int[] rows, int off, int w) {
        java.util.Arrays.fill(rows, off, off + w, Tokenizer.PAD);
        boolean end = tokenizer.endMarker();
        int room = w - (end ? 2 : 1);
        int start = seq.length > room && r != null ? r.nextInt(seq.length - room + 1) : 0;
        int n = Math.min(room, seq.length - start);
        rows[off] = Tokenizer.BOS;
        System.arraycopy(seq, start, rows, off + 1, n);
        if (end) rows[off + 1 + n] = Tokenizer.EOS;
    }

    private int[] stream() {
        if (stream == null) {
            int total = 0;
            for (int[] s : seqs) total += s.length + 1;
            stream = new int[total];
            int p = 0;
            for (int[] s : seqs) {
                System.arraycopy(s, 0, stream, p, s.length);
                p += s.length;
                stream[p++] = Tokenizer.SEP;
            }
        }
        return stream;
    }

    private void concatWindow(SplittableRandom r, int[] rows, int off, int w) {
        int[] s = stream();
        if (s.length <= w) {
            java.util.Arrays.fill(rows, off, off + w, Tokenizer.PAD);
            System.arraycopy(s, 0, rows, off, s.length);
            return;
        }
        System.arraycopy(s, r.nextInt(s.length - w + 1), rows, off, w);
    }

    /** Rows of width l+1 into a batch of width l: masked LM on the first l, or next-token targets. */
    private Batch objective(int[] rows, int b, int l, boolean masked, SplittableRandom r) {
        Batch out = new Batch(b, l, new int[b * l], new int[b * l], new float[b * l]);
        objective(rows, b, l, masked, r, out);
        return out;
    }

    private void objective(int[] rows, int b, int l, boolean masked, SplittableRandom r, Batch out) {
        int[] tok = out.tokens(), tgt = out.targets();
        float[] mask = out.keyMask();
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < l; t++) {
                int x = rows[i * (l + 1) + t], n = i * l + t;
                tok[n] = x;
                mask[n] = x == Tokenizer.PAD ? 0f : 1f;
                if (masked) {
                    tgt[n] = -1;
                    if (x >= Tokenizer.FIRST_SYMBOL && r.nextDouble() < 0.15) {
                        tgt[n] = x;
                        double u = r.nextDouble();
                        if (u < 0.8) tok[n] = Tokenizer.MASK;
                        else if (u < 0.9) tok[n] = tokenizer.randomSymbol(r);
                    }
                } else {
                    int y = rows[i * (l + 1) + t + 1];
                    tgt[n] = (x == Tokenizer.PAD || y == Tokenizer.PAD) ? -1 : y;
                }
            }
        }
    }
}
