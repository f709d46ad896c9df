package dev.performer.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.attention.AttentionSpec;
import dev.performer.attention.FeatureKind;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Per-record scores and embeddings against one-record forwards; shards keep the whole batch's dropout. */
class ScoreAndShardTest {

    static final Kernels KERN = new VectorKernels(2);

    @AfterAll
    static void close() { KERN.close(); }

    static PerformerModel model(Direction d) {
        ModelConfig cfg = ModelConfig.builder().maxLen(24).layers(2).width(16).heads(2).ffn(32).direction(d)
                .attention(AttentionSpec.favor(FeatureKind.SOFTMAX, 8)).dropout(0.2f).build();
        return new PerformerModel(cfg, KERN, 5);
    }

    static List<int[]> records(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] s = new int[1 + r.nextInt(30)];   // some longer than L: clipped
            for (int j = 0; j < s.length; j++) s[j] = Tokenizer.PROTEIN.randomSymbol(r);
            out.add(s);
        }
        return out;
    }

    @Test
    void causalLogLikelihoodIsMinusTheMeanLossTimesTheTargetsOfTheRecordAlone() {
        PerformerModel m = model(Direction.CAUSAL);
        int l = 12;
        List<int[]> recs = records(7, 1);
        Score[] s = m.score(recs, 3, l);
        for (int i = 0; i < recs.size(); i++) {
            int[] seq = recs.get(i);
            int n = Math.min(seq.length, l - 1);          // BOS + L−1 symbols + EOS = L + 1 tokens
            int[] row = new int[n + 2];
            row[0] = Tokenizer.BOS;
            System.arraycopy(seq, 0, row, 1, n);
            row[n + 1] = Tokenizer.EOS;
            int t = n + 1;
            int[] tok = Arrays.copyOf(row, t), tgt = Arrays.copyOfRange(row, 1, t + 1);
            double mean = m.forward(tok, tgt, 1, t, null, false, 0);
            assertEquals(t, s[i].tokens(), "symbols and EOS of record " + i);
            // float32 mean loss of the short row against a sum of float32 log-probabilities: ~1e-6 relative
            assertEquals(-mean * t, s[i].logLikelihood(), 1e-4 * t, "record " + i);
            assertEquals(Math.exp(-s[i].logLikelihood() / t), s[i].perplexity(), 1e-12);
            assertFalse(s[i].pseudo());
        }
    }

    @Test
    void pseudoLogLikelihoodSumsOneMaskedForwardPerSymbol() {
        PerformerModel m = model(Direction.BIDIRECTIONAL);
        int l = 10;
        List<int[]> recs = records(4, 2);
        Score[] s = m.score(recs, 4, l);
        for (int i = 0; i < recs.size(); i++) {
            int[] seq = recs.get(i);
            int n = Math.min(seq.length, l - 2);
            double ll = 0;
            for (int p = 0; p < n; p++) {
                int[] tok = new int[n + 2], tgt = new int[n + 2];
                Arrays.fill(tgt, -1);
                tok[0] = Tokenizer.BOS;
                System.arraycopy(seq, 0, tok, 1, n);
                tok[n + 1] = Tokenizer.EOS;
                tgt[p + 1] = tok[p + 1];
                tok[p + 1] = Tokenizer.MASK;
                ll -= m.forward(tok, tgt, 1, n + 2, null, false, 0);   // one target: the loss is −log p
            }
            assertEquals(n, s[i].tokens());
            assertTrue(s[i].pseudo());
            // the same model on unpadded rows of length n + 2 instead of key-masked rows of L: float rounding
            assertEquals(ll, s[i].logLikelihood(), 1e-4 * n, "record " + i);
        }
    }

    @Test
    void embedRecordsEqualsEmbeddingEachRecordAlone() {
        for (Direction d : Direction.values()) {
            PerformerModel m = model(d);
            List<int[]> recs = records(5, 3).stream().map(r -> Arrays.copyOf(r, Math.min(r.length, 20))).toList();
            float[] all = m.embedRecords(recs, 2, 22);
            int c = m.config().width();
            for (int i = 0; i < recs.size(); i++) {
                float[] one = m.embed(recs.get(i));
                for (int j = 0; j < c; j++)   // padded (B, L) rows against an exact-length row: float rounding
                    assertEquals(one[j], all[i * c + j], 1e-5f, d + " record " + i + " dim " + j);
            }
        }
    }

    @Test
    void aShardWithItsFirstRowGetsTheWholeBatchsDropoutAndActivations() {
        PerformerModel m = model(Direction.BIDIRECTIONAL);
        SequenceData data = new SequenceData(Tokenizer.PROTEIN);
        List<int[]> recs = records(20, 4);
        for (int i = 0; i < recs.size(); i++) data.add("r" + i, recs.get(i));
        int b = 6, l = 16, c = m.config().width();
        SequenceData.Batch whole = data.sample(b, l, SequenceData.Layout.PAD, true, 9, 3);
        m.forward(whole.tokens(), whole.targets(), b, l, whole.keyMask(), true, 77);
        float[] all = m.hidden().clone();
        SequenceData.Batch part = whole.rows(2, 5);
        m.forward(part.tokens(), part.targets(), 3, l, part.keyMask(), true, 77, 2);
        float[] shard = m.hidden();
        for (int i = 0; i < 3 * l * c; i++)   // rows are independent: the same arithmetic on the same inputs
            assertEquals(all[2 * l * c + i], shard[i], 1e-6f, "element " + i);
        m.forward(part.tokens(), part.targets(), 3, l, part.keyMask(), true, 77, 0);
        double diff = 0;
        for (int i = 0; i < 3 * l * c; i++) diff = Math.max(diff, Math.abs(all[2 * l * c + i] - m.hidden()[i]));
        assertTrue(diff > 1e-3, "without the offset the masks are those of rows 0-2: " + diff);
        assertThrows(IllegalArgumentException.class, () -> whole.rows(4, 7));
    }
}
