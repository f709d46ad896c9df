package dev.performer.model;

import dev.performer.attention.Attention;
import dev.performer.attention.FavorAttention;
import dev.performer.attention.IdentityAttention;
import dev.performer.attention.RecurrentFavor;
import dev.performer.kernel.Kernels;
import java.util.Arrays;

/**
 * The attention half of a pre-LayerNorm block, N = B·T rows of C = H·D:
 * <pre>
 *   forward:  a = LN1(x)                       x, a (N, C)
 *             qkv = a·Wqkv + b                 (N, 3C)
 *             q, k, v = split(qkv)             (B, H, T, D) each; rotary: q, k rotated by position
 *             o = Attention(q, k, v)           (B, H, T, D)
 *             x' = x + drop(merge(o)·Wproj + b)   (N, C)
 *   backward: the same in reverse: dx' → drop' → dproj → split → dAttention → dq, dk, dv
 *             (rotated back) → join → dqkv → dLN1, added to the residual's dx
 *   rows:     the decoder's N tokens, one per sequence, all at one position: LN1, qkv (N rows at
 *             once), per row rotary and one step of its sequence's recurrent FAVOR+ state / the exact
 *             attention over its key-value cache / identity, proj (N rows), residual (no dropout);
 *             or split by heads: each part LN1 (its own copy), the q, k, v columns of its heads, their
 *             attention over its own states; then (after a barrier) its columns of proj and residual
 * </pre>
 */
final class AttentionBlock {

    private final Kernels kern;
    private final int layer, h, d, c;
    private final LayerNorm ln1;
    private final Linear qkv, proj;
    private final Rotary rotary; // null unless rotary positions
    private final Attention attention;
    private final Dropout drop;
    private final boolean exact;

    AttentionBlock(Kernels kern, ModelConfig cfg, ParameterLayout lay, float[] params, float[] grads, int layer,
                   Attention attention, Rotary rotary, boolean exact) {
        String p = "h" + layer + ".";
        this.kern = kern;
        this.layer = layer;
        this.h = cfg.heads();
        this.d = cfg.headDim();
        this.c = cfg.width();
        this.ln1 = new LayerNorm(kern, params, grads, lay.offset(p + "ln1.g"), lay.offset(p + "ln1.b"), c);
        this.qkv = new Linear(kern, params, grads, lay.offset(p + "qkv.w"), lay.offset(p + "qkv.b"), c, 3 * c);
        this.proj = new Linear(kern, params, grads, lay.offset(p + "proj.w"), lay.offset(p + "proj.b"), c, c);
        this.rotary = rotary;
        this.attention = attention;
        this.drop = new Dropout(kern, cfg.dropout(), layer, 0);
        this.exact = exact;
    }

    /** a.res2[l] (N, C) = a.resIn[l] + drop(attention branch); keyMask (B, T) or null. */
    void forward(Activations a, float[] keyMask, boolean dropOn, long dropSeed) {
        int l = layer, n = a.n, b = a.b, t = a.t;
        float[] x = a.resIn[l], out = a.res2[l];
        ln1.forward(x, a.ln1[l], a.ln1Mean[l], a.ln1Rstd[l], n);
        qkv.forward(a.ln1[l], a.qkv[l], n);
        splitHeads(a.qkv[l], a.q[l], a.k[l], a.v[l], b, t, h, d);
        if (rotary != null) { rotary.forward(a.q[l], b * h, t); rotary.forward(a.k[l], b * h, t); }
        a.saved[l] = attention.forward(a.dims, a.q[l], a.k[l], a.v[l], keyMask, a.att[l], a.saved[l]);
        mergeHeads(a.att[l], a.attMerged[l], b, t, h, d);
        proj.forward(a.attMerged[l], out, n);
        if (dropOn) drop.forward(out, n * c, dropSeed, a.dropFirst(c));
        kern.axpy(1f, x, 0, out, 0, n * c);                                 // res2 = x + drop(proj)
    }

    /** g.dx (N, C): d(res2) in, d(x) out (the residual passes through, the branch's gradient is added). */
    void backward(Activations a, GradScratch g, boolean dropOn, long dropSeed) {
        int l = layer, n = a.n, b = a.b, t = a.t;
        System.arraycopy(g.dx, 0, g.dtmp, 0, n * c);
        if (dropOn) drop.backward(g.dtmp, n * c, dropSeed, a.dropFirst(c));
        Arrays.fill(g.datt, 0f);
        proj.backward(a.attMerged[l], g.dtmp, g.datt, n);
        splitMerged(g.datt, g.dtmp, b, t, h, d);                             // (N, C) -> (B, H, T, D)
        attention.backward(a.saved[l], g.dtmp, g.dq, g.dk, g.dv);
        if (rotary != null) { rotary.backward(g.dq, b * h, t); rotary.backward(g.dk, b * h, t); }
        joinHeads(g.dq, g.dk, g.dv, g.dqkv, b, t, h, d);
        Arrays.fill(g.dln, 0f);
        qkv.backward(a.ln1[l], g.dqkv, g.dln, n);
        ln1.backward(g.dln, a.resIn[l], a.ln1Mean[l], a.ln1Rstd[l], g.dx, n);
    }

    /**
     * The decoding state of this layer for one sequence, over all its heads or a range of them (a
     * part of a step split by heads): the recurrent FAVOR+ state, or the exact attention's key/value
     * cache (heads·D floats per token each, grown by doubling), or nothing (identity).
     */
    static final class State {
        private final RecurrentFavor rec;
        private final int width;                  // heads·D, the cached floats per token
        private float[] kCache, vCache;
        private float[] scores = new float[16];   // exact attention scores over the cache (grown by doubling)

        private State(RecurrentFavor rec, int width, boolean cache) {
            this.rec = rec;
            this.width = width;
            if (cache) { kCache = new float[16 * width]; vCache = new float[16 * width]; }
        }

        /** Floats of attention state kept after pos tokens. */
        long floats(int pos) { return rec != null ? rec.stateFloats() : kCache != null ? 2L * pos * width : 0; }
    }

    /**
     * The decoding states of a group of sequences for this layer (one thread's rows, or one part's
     * heads of all rows), with the scratch that steps FAVOR+ states together.
     */
    static final class States {
        private final State[] of;              // [sequence]
        private final RecurrentFavor[] rec;    // [sequence] the FAVOR+ states, or null
        private final RecurrentFavor.Batch batch;

        private States(State[] of, RecurrentFavor[] rec, RecurrentFavor.Batch batch) {
            this.of = of;
            this.rec = rec;
            this.batch = batch;
        }

        /** Floats of attention state kept after pos tokens, over the sequences. */
        long floats(int pos) {
            long f = 0;
            for (State s : of) f += s.floats(pos);
            return f;
        }
    }

    /**
     * Fresh decoding states of count sequences for this layer's heads of one part of a step (any
     * heads in [0, H]; H for all of them); FAVOR+ states share one prepared projection.
     */
    States newStates(int count, int heads) {
        if (heads < 0 || heads > h) throw new IllegalArgumentException("heads " + heads + " outside [0, " + h + "]");
        State[] states = new State[count];
        if (attention instanceof FavorAttention f && heads > 0) {
            RecurrentFavor.Projection p = RecurrentFavor.Projection.of(f);
            RecurrentFavor[] rec = new RecurrentFavor[count];
            for (int i = 0; i < count; i++) {
                rec[i] = new RecurrentFavor(kern, p, heads);
                states[i] = new State(rec[i], heads * d, false);
            }
            return new States(states, rec, new RecurrentFavor.Batch(p, heads));
        }
        if (!exact && !(attention instanceof IdentityAttention) && !(attention instanceof FavorAttention))
            throw new IllegalStateException(attention.name() + " attention has no token-by-token decoder "
                    + "(FAVOR+, exact and identity attention do)");
        for (int i = 0; i < count; i++) states[i] = new State(null, heads * d, exact);
        return new States(states, null, null);
    }

    /**
     * r.x (N, C) += attention branch of the N tokens at pos (0-based), row i advancing the state of
     * its own sequence by its token. The linear maps run on the N rows at once (one gemm each), and
     * so do the FAVOR+ feature projections of all rows and heads (up to 16 rows per product).
     */
    void decodeRows(RowBuffers r, States s, int pos) {
        int n = r.n;
        ln1.forward(r.x, r.a, r.mean, r.rstd, n);
        qkv.forward(r.a, r.qkv, n);
        attend(r, s, pos, 0, h);
        proj.forward(r.o, r.tmp, n);
        for (int i = 0; i < n; i++) kern.axpy(1f, r.tmp, i * c, r.x, i * c, c);
    }

    /**
     * Heads [h0, h1) of the decoder's N rows, the first half of an attention step split by heads:
     * out (N, C) = LN1(r.x) (this part's own copy, with mean and rstd (N)), the q, k, v columns of
     * those heads into r.qkv, and their attention into the same columns of r.o, row i advancing its
     * sequence's state in s (this part's states, over these heads). {@link #projectColumns} follows
     * once every head is done.
     */
    void decodeHeads(RowBuffers r, float[] out, float[] mean, float[] rstd, States s, int pos, int h0, int h1) {
        int n = r.n;
        if (h0 == h1) return;
        ln1.forward(r.x, out, mean, rstd, n);
        for (int part = 0; part < 3; part++) qkv.forwardColumns(out, r.qkv, n, part * c + h0 * d, part * c + h1 * d);
        attend(r, s, pos, h0, h1);
    }

    /** Heads [h0, h1) of r.o (N, C) = attention of the N qkv rows (rotated first with rotary positions). */
    private void attend(RowBuffers r, States s, int pos, int h0, int h1) {
        int n = r.n, q = h0 * d;
        if (s.batch == null) {
            for (int i = 0; i < n; i++) attendRow(r, s.of[i], pos, i, h0, h1);
            return;
        }
        if (rotary != null)
            for (int i = 0; i < n; i++) rotary.forwardRow(r.qkv, i * 3 * c + q, i * 3 * c + c + q, h1 - h0, r.cos,
                    r.sin);
        s.batch.step(s.rec, n, r.qkv, q, c + q, 2 * c + q, 3 * c, r.o, q, c);
    }

    /** Columns [c0, c1) of r.x (N, C) += proj(r.o): the second half of an attention step split by heads. */
    void projectColumns(RowBuffers r, int c0, int c1) {
        proj.forwardColumns(r.o, r.tmp, r.n, c0, c1);
        for (int i = 0; i < r.n; i++) kern.axpy(1f, r.tmp, i * c + c0, r.x, i * c + c0, c1 - c0);
    }

    /** Heads [h0, h1) of r.o row i = attention of qkv row i (rotated first with rotary positions), advancing s. */
    private void attendRow(RowBuffers r, State s, int pos, int i, int h0, int h1) {
        int q = i * 3 * c + h0 * d, k = q + c, v = q + 2 * c, o = i * c + h0 * d;
        if (rotary != null) rotary.forwardRow(r.qkv, q, k, h1 - h0, r.cos, r.sin);
        if (s.rec != null) s.rec.step(r.qkv, q, r.qkv, k, r.qkv, v, r.o, o);
        else if (s.kCache != null) cachedAttention(r.qkv, q, k, v, r.o, o, s, pos, h1 - h0);
        else System.arraycopy(r.qkv, v, r.o, o, (h1 - h0) * d);
    }

    /**
     * Exact causal attention of one token over its sequence's cached keys and values (itself
     * included), for the state's heads: q, k, v (heads·D) at qo, ko, vo of row, the output at oo of o.
     */
    private void cachedAttention(float[] row, int qo, int ko, int vo, float[] o, int oo, State s, int pos, int heads) {
        int w = s.width;
        if ((pos + 1) * w > s.kCache.length) {
            s.kCache = Arrays.copyOf(s.kCache, 2 * (pos + 1) * w);
            s.vCache = Arrays.copyOf(s.vCache, 2 * (pos + 1) * w);
        }
        if (pos + 1 > s.scores.length) s.scores = new float[2 * (pos + 1)];
        float[] sc = s.scores, kc = s.kCache, vc = s.vCache;
        System.arraycopy(row, ko, kc, pos * w, w);
        System.arraycopy(row, vo, vc, pos * w, w);
        float scale = (float) (1.0 / Math.sqrt(d));
        for (int hi = 0; hi < heads; hi++) {
            for (int j = 0; j <= pos; j++) sc[j] = scale * kern.dot(row, qo + hi * d, kc, j * w + hi * d, d);
            float mx = kern.max(sc, 0, pos + 1);
            kern.expAffine(sc, 0, pos + 1, -mx, 1f, 0f);
            float z = kern.sum(sc, 0, pos + 1);
            Arrays.fill(o, oo + hi * d, oo + (hi + 1) * d, 0f);
            for (int j = 0; j <= pos; j++) kern.axpy(sc[j] / z, vc, j * w + hi * d, o, oo + hi * d, d);
        }
    }

    /** qkv (B·T, 3C) -> q, k, v (B, H, T, D). */
    private static void splitHeads(float[] qkv, float[] q, float[] k, float[] v, int b, int t, int h, int d) {
        int c = h * d;
        for (int bi = 0; bi < b; bi++)
            for (int ti = 0; ti < t; ti++) {
                int row = (bi * t + ti) * 3 * c;
                for (int hi = 0; hi < h; hi++) {
                    int dst = ((bi * h + hi) * t + ti) * d;
                    System.arraycopy(qkv, row + hi * d, q, dst, d);
                    System.arraycopy(qkv, row + c + hi * d, k, dst, d);
                    System.arraycopy(qkv, row + 2 * c + hi * d, v, dst, d);
                }
            }
    }

    /** dq, dk, dv (B, H, T, D) -> dqkv (B·T, 3C). */
    private static void joinHeads(float[] dq, float[] dk, float[] dv, float[] dqkv, int b, int t, int h, int d) {
        int c = h * d;
        for (int bi = 0; bi < b; bi++)
            for (int ti = 0; ti < t; ti++) {
                int row = (bi * t + ti) * 3 * c;
                for (int hi = 0; hi < h; hi++) {
                    int src = ((bi * h + hi) * t + ti) * d;
                    System.arraycopy(dq, src, dqkv, row + hi * d, d);
                    System.arraycopy(dk, src, dqkv, row + c + hi * d, d);
                    System.arraycopy(dv, src, dqkv, row + 2 * c + hi * d, d);
                }
            }
    }

    /** (B, H, T, D) -> (B·T, C). */
    private static void mergeHeads(float[] x, float[] out, int b, int t, int h, int d) {
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < h; hi++)
                for (int ti = 0; ti < t; ti++)
                    System.arraycopy(x, ((bi * h + hi) * t + ti) * d, out, (bi * t + ti) * h * d + hi * d, d);
    }

    /** (B·T, C) -> (B, H, T, D). */
    private static void splitMerged(float[] x, float[] out, int b, int t, int h, int d) {
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < h; hi++)
                for (int ti = 0; ti < t; ti++)
                    System.arraycopy(x, (bi * t + ti) * h * d + hi * d, out, ((bi * h + hi) * t + ti) * d, d);
    }
}
