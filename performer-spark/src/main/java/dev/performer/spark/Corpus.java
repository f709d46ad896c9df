package dev.performer.spark;

import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import java.io.Serializable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.broadcast.Broadcast;

/**
 * The training records, flat (symbols of every record back to back, and where each starts), to
 * broadcast once per run: every task draws its shard's rows from the same whole set, so a shard's
 * batch is the single-machine batch's rows, whichever executor computes it.
 */
final class Corpus implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String tokenizer;
    private final int[] symbols;
    private final int[] starts;   // n + 1 offsets into symbols

    private Corpus(String tokenizer, int[] symbols, int[] starts) {
        this.tokenizer = tokenizer;
        this.symbols = symbols;
        this.starts = starts;
    }

    static Corpus of(SequenceData d) {
        long total = d.residues();
        if (total > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException("training data of " + total
                    + " symbols: at most 2^31 fit one broadcast");
        int[] s = new int[(int) total], st = new int[d.size() + 1];
        int p = 0;
        for (int i = 0; i < d.size(); i++) {
            int[] q = d.sequence(i);
            st[i] = p;
            System.arraycopy(q, 0, s, p, q.length);
            p += q.length;
        }
        st[d.size()] = p;
        return new Corpus(d.tokenizer().name(), s, st);
    }

    /** The records as a data set again. */
    SequenceData data() {
        SequenceData d = new SequenceData(Tokenizer.valueOf(tokenizer));
        for (int i = 0; i + 1 < starts.length; i++)
            d.add(Integer.toString(i), java.util.Arrays.copyOfRange(symbols, starts[i], starts[i + 1]));
        return d;
    }

    private static final Map<Long, SequenceData> BY_BROADCAST = new ConcurrentHashMap<>();

    /**
     * The data set of a broadcast corpus, rebuilt once per executor JVM (callers sample from it
     * inside {@code synchronized (data)}: sampling reuses a scratch row).
     */
    static SequenceData on(Broadcast<Corpus> b) {
        SequenceData d = BY_BROADCAST.get(b.id());
        if (d != null) return d;
        synchronized (BY_BROADCAST) {
            if (BY_BROADCAST.size() > 4) BY_BROADCAST.clear();   // earlier runs' corpora
            return BY_BROADCAST.computeIfAbsent(b.id(), k -> b.value().data());
        }
    }
}
