package dev.performer.data;

import dev.performer.random.Seeds;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Tokenized protein sequences and the batches a language model trains on.
 *
 * <p>Two layouts: {@link Layout#PAD} (one record per row: BOS, residues, EOS, clipped to a random
 * window when longer than L, padded with PAD) and {@link Layout#CONCAT} (all records joined with
 * SEP into one stream, rows are windows of L; the paper's L = 8192 setting). Two objectives:
 * masked LM (15% of residues selected; of those 80% become MASK, 10% a random residue, 10% stay;
 * the targets are the original residues) and next-token LM (targets are the following token).
 */
public final class ProteinData {

    public enum Layout { PAD, CONCAT }

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
    }

    public int size() { return seqs.size(); }
    public long residues() { long n = 0; for (int[] s : seqs) n += s.length; return n; }
    public String id(int i) { return ids.get(i); }
    public int[] sequence(int i) { return seqs.get(i); }

    public void add(String id, int[] seq) {
        ids.add(id);
        seqs.add(seq);
        stream = null;
    }

    /** FASTA files read into a training and a validation part, with the counts of records read and skipped. */
    public record Corpus(ProteinData train, ProteinData valid, int read, int skipped) {}

    /**
     * Reads FASTA files (plain or .gz), holding out the records whose id hashes (with the seed)
     * into validFraction; letters outside the alphabet become X, silently (see
     * {@link #readFiles} for other policies and for warnings).
     */
    public static Corpus load(List<Path> files, double validFraction, long seed) throws IOException {
        if (!(validFraction >= 0 && validFraction < 1))
            throw new IllegalArgumentException("validation fraction must be in [0, 1), got " + validFraction);
        ProteinData train = new ProteinData(), valid = new ProteinData();
        int[] rs = readFiles(files, Tokenizer.Unknown.MAP_TO_X, train, valid, seed, validFraction, null);
        return new Corpus(train, valid, rs[0], rs[1]);
    }

    /**
     * Reads FASTA files into a training part and a validation part: records whose id hashes into
     * the validation fraction (seeded) go to {@code valid}, unless {@code valid} is null (then all
     * go to train). Characters outside the alphabet are reported with the record id on
     * {@code warn} and mapped to X or skip the record, per the policy. Returns {read, skipped}.
     */
    public static int[] readFiles(List<Path> files, Tokenizer.Unknown policy, ProteinData train, ProteinData valid,
                                  long seed, double validFraction, PrintStream warn) throws IOException {
        List<FastaReader> readers = new ArrayList<>();
        for (Path f : files) readers.add(FastaReader.open(f));
        return readAll(readers, policy, train, valid, seed, validFraction, warn);
    }

    /** As {@link #readFiles} from open readers (closed here). */
    public static int[] readAll(List<FastaReader> readers, Tokenizer.Unknown policy, ProteinData train,
                                ProteinData valid, long seed, double validFraction, PrintStream warn)
            throws IOException {
        int read = 0, skipped = 0, reported = 0;
        for (FastaReader fr : readers) {
            String f = fr.name();
            try (FastaReader r = fr) {
                while (r.hasNext()) {
                    FastaReader.Record rec = r.next();
                    read++;
                    int bad = Tokenizer.firstUnknown(rec.sequence());
                    if (bad >= 0 && reported++ < 20 && warn != null)
                        warn.printf("%s:%d: record %s has '%c' at residue %d: %s%n", f, rec.line(), rec.id(),
                                rec.sequence().charAt(bad), bad + 1,
                                policy == Tokenizer.Unknown.SKIP_RECORD ? "record skipped" : "mapped to X");
                    int[] toks = Tokenizer.encode(rec.sequence(), policy);
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
     * BOS, residues, EOS into a row of width w (a random window when too long; the first when r is null), PAD
     * after.
     */
    private static void padRow(int[] seq, SplittableRandom r, int[] rows, int off, int w) {
        java.util.Arrays.fill(rows, off, off + w, Tokenizer.PAD);
        int room = w - 2;
        int start = seq.length > room && r != null ? r.nextInt(seq.length - room + 1) : 0;
        int n = Math.min(room, seq.length - start);
        rows[off] = Tokenizer.BOS;
        System.arraycopy(seq, start, rows, off + 1, n);
        rows[off + 1 + n] = Tokenizer.EOS;
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
    private static Batch objective(int[] rows, int b, int l, boolean masked, SplittableRandom r) {
        Batch out = new Batch(b, l, new int[b * l], new int[b * l], new float[b * l]);
        objective(rows, b, l, masked, r, out);
        return out;
    }

    private static void objective(int[] rows, int b, int l, boolean masked, SplittableRandom r, Batch out) {
        int[] tok = out.tokens(), tgt = out.targets();
        float[] mask = out.keyMask();
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < l; t++) {
                int x = rows[i * (l + 1) + t], n = i * l + t;
                tok[n] = x;
                mask[n] = x == Tokenizer.PAD ? 0f : 1f;
                if (masked) {
                    tgt[n] = -1;
                    if (x >= Tokenizer.FIRST_LETTER && r.nextDouble() < 0.15) {
                        tgt[n] = x;
                        double u = r.nextDouble();
                        if (u < 0.8) tok[n] = Tokenizer.MASK;
                        else if (u < 0.9) tok[n] = Tokenizer.randomLetter(r);
                    }
                } else {
                    int y = rows[i * (l + 1) + t + 1];
                    tgt[n] = (x == Tokenizer.PAD || y == Tokenizer.PAD) ? -1 : y;
                }
            }
        }
    }
}
