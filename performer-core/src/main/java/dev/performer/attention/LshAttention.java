package dev.performer.attention;

import dev.performer.kernel.Kernels;
import dev.performer.random.Seeds;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reformer's LSH attention (Kitaev, Kaiser, Levskaya, "Reformer: The Efficient Transformer", ICLR
 * 2020), self-attention with shared query-key, forward and backward; O(rounds·L·chunk·D) per head.
 *
 * <p>Per batch and head, with queries q (L×D) and values v (the k input is ignored):
 * <pre>
 *   k̂_j = q_j/|q_j|   (0 when |q_j|² = 0)                                   shared query-key
 *   h_r(x) = argmax [x R_r ; −x R_r]   R_r D×(buckets/2) Gaussian, from (seed, r)   round r's hash
 *   π_r = positions sorted by (h_r(k̂_j), j), cut into chunks of 'chunk' (the last may be shorter)
 *   query π_r(p) in chunk c = ⌊p/chunk⌋ sees the keys of chunks c − 1 (when c > 0) and c
 *   s_ij = q_i·k̂_j/√D;  −∞ when key j is masked or (causal) j &gt; i;  s_ii = −1e5 (unless masked)
 *   lse_r(i) = ln Σ_j e^(s_ij),  o_r(i) = Σ_j e^(s_ij − lse_r(i)) v_j     (0 and −∞ with no key)
 *   lse(i) = ln Σ_r e^(lse_r(i)),  out(i) = Σ_r e^(lse_r(i) − lse(i)) o_r(i)
 * </pre>
 * A key seen in several rounds counts in each (no duplicate correction); a query with no key in
 * any round outputs 0. With buckets = 1 every position hashes to 0 (the sort is the identity).
 * The self score −1e5 makes a query attend to itself only when nothing else is available.
 *
 * <p>Backward holds the hashes and the sort orders constant. With P̃_ij = e^(s_ij − lse(i)) (the
 * round's probabilities times its weight e^(lse_r − lse)), the round combination folds into one
 * exact-attention backward per round:
 * <pre>
 *   Δ_i = dout_i·out_i,  dv_j += P̃_ij dout_i,  dS_ij = P̃_ij (dout_i·v_j − Δ_i)   (dS_ii = 0: s_ii is constant)
 *   dq_i += dS_ij k̂_j/√D,  dk̂_j += dS_ij q_i/√D,  and finally  dq_j += (I − k̂_j k̂_jᵀ) dk̂_j / |q_j|
 * </pre>
 * dk is written as 0. Each round gathers q, k̂ and v in sorted order into contiguous per-thread
 * scratch, so a chunk's keys (chunks c − 1 and c) are consecutive rows and its products are
 * {@link Kernels#gemm} calls of chunk × 2·chunk. The work runs in parallel over batch·head.
 *
 * <p>Saved keeps the sort orders (rounds·B·H·L ints), the combined lse as max score + log-sum
 * (2·B·H·L; max +∞ for a query with no key, so that e^(s − lse) = 0) and a copy of the output;
 * backward recomputes k̂, the sorted gathers and the scores. The rotations are drawn once per head
 * dimension D and then fixed for the operator's life; the same rotations serve every batch and head.
 *
 * <p>Causality caveat (inherent to the scheme, as in trax): causal masking removes keys j &gt; i,
 * but the hashes of later positions move the chunk boundaries of the sorted order, so out_i can
 * depend on q_j for j &gt; i through which keys share i's chunk window. It never depends on v_j
 * (j &gt; i), nor on q_j through the scores.
 */
public final class LshAttention implements Attention {

    /** The score of a query against itself (trax's self-mask value). */
    static final float SELF_SCORE = -1e5f;

    private final Kernels kern;
    private final boolean causal;
    private final int buckets, rounds, chunk;
    private final long seed;
    /** Rotations per head dimension D: [round] → D×(buckets/2) row-major. */
    private final ConcurrentHashMap<Integer, float[][]> rotations = new ConcurrentHashMap<>();

    public LshAttention(Kernels kern, boolean causal, int buckets, int rounds, int chunk, long seed) {
        if (kern == null) throw new IllegalArgumentException("kernels are missing");
        if (buckets < 1 || (buckets != 1 && buckets % 2 != 0))
            throw new IllegalArgumentException("LSH buckets must be 1 or an even number >= 2, got " + buckets);
        if (rounds < 1) throw new IllegalArgumentException("LSH rounds must be >= 1, got " + rounds);
        if (chunk < 1) throw new IllegalArgumentException("LSH chunk must be >= 1, got " + chunk);
        this.kern = kern;
        this.causal = causal;
        this.buckets = buckets;
        this.rounds = rounds;
        this.chunk = chunk;
        this.seed = seed;
    }

    @Override public String name() { return causal ? "reformer/causal" : "reformer"; }
    @Override public boolean causal() { return causal; }

    public int buckets() { return buckets; }
    public int rounds() { return rounds; }
    public int chunk() { return chunk; }

    /** What backward needs: inputs (referenced), the sort orders, the combined lse and a copy of the output. */
    private static final class State implements Saved {
        Dims dims;
        float[] q, v, keyMask;
        int[] perm;     // (rounds, B·H, L): sorted position p → original position
        float[] mx;     // (B·H, L) combined lse = mx + lz: mx the largest score of the query (+∞: no key)
        float[] lz;     // (B·H, L) the log of the sum relative to mx
        float[] o;      // (B, H, L, D) copy of the output
        final LshAttention owner;

        State(LshAttention owner) { this.owner = owner; }

        @Override public Dims dims() { return dims; }
    }

    /**
     * Per-thread buffers, grown on demand: k̂ and its 1/|q| (original order), the projections,
     * buckets and counting-sort counts, the sorted gathers qs, ks, vs, os (forward: the round's
     * output; backward: dout), their gradients, per-row statistics and the chunk tiles S, dP.
     */
    private static final class Scratch {
        float[] khat = new float[0], inv = new float[0], proj = new float[0];
        int[] bucket = new int[0], count = new int[0];
        float[] qs = new float[0], ks = new float[0], vs = new float[0], os = new float[0];
        float[] dqs = new float[0], dks = new float[0], dvs = new float[0], dkh = new float[0];
        float[] rowA = new float[0], rowB = new float[0], rowC = new float[0];
        float[] delta = new float[0], rowInv = new float[0];
        float[] s = new float[0], dp = new float[0];

        void ensure(int l, int d, int half, int nb, int cw, int sw, boolean backward) {
            int ld = l * d;
            if (khat.length < ld) {
                khat = new float[ld]; qs = new float[ld]; ks = new float[ld]; vs = new float[ld]; os = new float[ld];
            }
            if (backward && dqs.length < ld) {
                dqs = new float[ld]; dks = new float[ld]; dvs = new float[ld]; dkh = new float[ld];
            }
            if (inv.length < l) {
                inv = new float[l]; bucket = new int[l]; rowA = new float[l]; rowB = new float[l]; rowC = new float[l];
                delta = new float[l];
            }
            if (proj.length < l * half) proj = new float[l * half];
            if (count.length < nb + 1) count = new int[nb + 1];
            if (rowInv.length < cw) rowInv = new float[cw];
            if (s.length < cw * sw) s = new float[cw * sw];
            if (backward && dp.length < cw * sw) dp = new float[cw * sw];
        }
    }

    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    /** Round r's rotation for head dimension d, D×(buckets/2) row-major (shared, do not modify). */
    private float[] rot(int d, int r) {
        return rotations.computeIfAbsent(d, dim -> {
            int half = buckets / 2;
            float[][] all = new float[rounds][dim * half];
            for (int round = 0; round < rounds; round++) {
                SplittableRandom rnd = new SplittableRandom(Seeds.nth(seed, round));
                for (int i = 0; i < dim * half; i++) all[round][i] = (float) rnd.nextGaussian();
            }
            return all;
        })[r];
    }

    /** A copy of round r's rotation R_r for head dimension d: D×(buckets/2) row-major. For tests. */
    float[] rotation(int d, int round) {
        checkRound(round);
        return rot(d, round).clone();
    }

    /** The bucket h_r(k̂_j) of every position j of batch·head bh, as forward assigns them. For tests. */
    int[] buckets(Dims dims, float[] q, int bh, int round) {
        checkRound(round);
        dims.checkLen("q", q, dims.qSize(), "(B,H,Lq,D)");
        if (bh < 0 || bh >= dims.bh()) throw new IllegalArgumentException("batch·head " + bh + " out of " + dims);
        int l = dims.lq(), d = dims.dim();
        int[] out = new int[l];
        kern.parallelFor(1, task -> {          // on a worker, as forward: the same single-threaded products
            Scratch sc = scratch(l, d, false);
            normalise(q, bh * l * d, l, d, sc);
            hash(l, d, round, sc);
            System.arraycopy(sc.bucket, 0, out, 0, l);
        });
        return out;
    }

    private void checkRound(int round) {
        if (round < 0 || round >= rounds) throw new IllegalArgumentException("round " + round + " of " + rounds);
    }

    private int window(int l) { return Math.min(chunk, l); }

    private Scratch scratch(int l, int d, boolean backward) {
        Scratch sc = scratch.get();
        int cw = window(l);
        sc.ensure(l, d, buckets / 2, buckets, cw, Math.min(2 * cw, l), backward);
        return sc;
    }

    @Override
    public Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out, Saved reuse) {
        Attention.checkForward(this, dims, q, k, v, keyMask, out);
        if (dims.lq() != dims.lk())
            throw new IllegalArgumentException(name() + ": LSH attention is self-attention, needs Lq == Lk, got "
                    + dims);
        State st = reuse instanceof State r && r.owner == this ? r : new State(this);
        int l = dims.lq();
        if (st.o == null || st.o.length != dims.qSize()) st.o = new float[dims.qSize()];
        if (st.mx == null || st.mx.length != dims.bh() * l) {
            st.mx = new float[dims.bh() * l];
            st.lz = new float[dims.bh() * l];
        }
        if (st.perm == null || st.perm.length != rounds * dims.bh() * l) st.perm = new int[rounds * dims.bh() * l];
        st.dims = dims; st.q = q; st.v = v; st.keyMask = keyMask;
        rot(dims.dim(), 0);   // draw the rotations once, outside the parallel section
        kern.parallelFor(dims.bh(), bh -> forwardHead(st, out, bh));
        System.arraycopy(out, 0, st.o, 0, out.length);
        return st;
    }

    /** k̂ = q/|q| and 1/|q| (0 for |q|² = 0) of the l rows at q[off..] into sc.khat, sc.inv. */
    private void normalise(float[] q, int off, int l, int d, Scratch sc) {
        for (int j = 0; j < l; j++) {
            float n2 = kern.dot(q, off + j * d, q, off + j * d, d);
            float inv = n2 > 0f ? (float) (1.0 / Math.sqrt(n2)) : 0f;
            sc.inv[j] = inv;
            for (int c = 0; c < d; c++) sc.khat[j * d + c] = q[off + j * d + c] * inv;
        }
    }

    /** sc.bucket[j] = argmax [k̂_j R_r ; −k̂_j R_r] (first maximum), or 0 with one bucket. */
    private void hash(int l, int d, int r, Scratch sc) {
        int half = buckets / 2;
        if (half == 0) {
            Arrays.fill(sc.bucket, 0, l, 0);
            return;
        }
        float[] p = sc.proj;
        kern.gemm(false, false, l, half, d, 1f, sc.khat, 0, d, rot(d, r), 0, half, 0f, p, 0, half);  // (L×D)(D×half)
        for (int j = 0; j < l; j++) {
            int row = j * half, best = 0;
            float mx = p[row];
            for (int t = 1; t < buckets; t++) {
                float x = t < half ? p[row + t] : -p[row + t - half];
                if (x > mx) { mx = x; best = t; }
            }
            sc.bucket[j] = best;
        }
    }

    /** Stable counting sort of positions by bucket into perm[po..po + l). */
    private void sort(int l, Scratch sc, int[] perm, int po) {
        int[] cnt = sc.count;
        Arrays.fill(cnt, 0, buckets + 1, 0);
        for (int j = 0; j < l; j++) cnt[sc.bucket[j] + 1]++;
        for (int t = 0; t < buckets; t++) cnt[t + 1] += cnt[t];
        for (int j = 0; j < l; j++) perm[po + cnt[sc.bucket[j]]++] = j;
    }

    /** dst row p = src row perm[po + p] (src rows of d floats from srcOff). */
    private static void gather(float[] src, int srcOff, int[] perm, int po, int l, int d, float[] dst) {
        for (int p = 0; p < l; p++) System.arraycopy(src, srcOff + perm[po + p] * d, dst, p * d, d);
    }

    /**
     * Applies the masks to one score row of query i against the window keys perm[kp..kp + nk):
     * −∞ for a masked key or (causal) a later one, {@link #SELF_SCORE} for the query itself.
     */
    private void maskRow(float[] s, int row, int i, int[] perm, int kp, int nk, float[] keyMask, int maskOff) {
        for (int t = 0; t < nk; t++) {
            int j = perm[kp + t];
            if ((causal && j > i) || (keyMask != null && keyMask[maskOff + j] == 0f))
                s[row + t] = Float.NEGATIVE_INFINITY;
            else if (j == i) s[row + t] = SELF_SCORE;
        }
    }

    /**
     * All rounds of head bh: out rows combined across rounds by log-sum-exp, the combined lse kept as
     * mx + lz (mx a score, lz = ln Σ e^(s − mx)): a float lse near the self score −1e5 would lose
     * 2^-17·1e5 ≈ 0.004 of absolute precision, while mx − s is a difference of two scores.
     */
    private void forwardHead(State st, float[] out, int bh) {
        Dims dims = st.dims;
        int l = dims.lq(), d = dims.dim(), b = bh / dims.heads(), ho = bh * l * d, lo = bh * l;
        int cw = window(l), sw = Math.min(2 * cw, l);
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] mxAll = st.mx, lzAll = st.lz;
        Scratch sc = scratch(l, d, false);
        float[] s = sc.s, mR = sc.rowA, lzR = sc.rowB;
        normalise(st.q, ho, l, d, sc);
        Arrays.fill(out, ho, ho + l * d, 0f);
        Arrays.fill(mxAll, lo, lo + l, Float.NEGATIVE_INFINITY);
        Arrays.fill(lzAll, lo, lo + l, 0f);
        for (int r = 0; r < rounds; r++) {
            int po = (r * dims.bh() + bh) * l;
            hash(l, d, r, sc);
            sort(l, sc, st.perm, po);
            gather(st.q, ho, st.perm, po, l, d, sc.qs);
            gather(sc.khat, 0, st.perm, po, l, d, sc.ks);
            gather(st.v, ho, st.perm, po, l, d, sc.vs);
            for (int c0 = 0; c0 < l; c0 += cw) {
                int nq = Math.min(cw, l - c0), k0 = Math.max(0, c0 - cw), nk = c0 + nq - k0;
                kern.gemm(false, true, nq, nk, d, scale, sc.qs, c0 * d, d, sc.ks, k0 * d, d, 0f, s, 0, sw); // Q K̂ᵀ/√D
                for (int a = 0; a < nq; a++) {
                    int row = a * sw;
                    maskRow(s, row, st.perm[po + c0 + a], st.perm, po + k0, nk, st.keyMask, b * l);
                    float m = kern.max(s, row, nk);
                    if (m == Float.NEGATIVE_INFINITY) {          // no key this round: P = 0, o_r = 0
                        Arrays.fill(s, row, row + nk, 0f);
                        mR[c0 + a] = Float.NEGATIVE_INFINITY;
                        sc.rowInv[a] = 0f;
                        continue;
                    }
                    kern.expAffine(s, row, nk, -m, 1f, 0f);       // e^(s − m); e^(−∞) = 0
                    float z = kern.sum(s, row, nk);
                    mR[c0 + a] = m;                                // lse_r = m + ln z
                    lzR[c0 + a] = (float) Math.log(z);
                    sc.rowInv[a] = 1f / z;
                }
                kern.gemm(false, false, nq, d, nk, 1f, s, 0, sw, sc.vs, k0 * d, d, 0f, sc.os, c0 * d, d); // P V
                for (int a = 0; a < nq; a++) kern.scale(sc.os, (c0 + a) * d, d, sc.rowInv[a]);
            }
            for (int p = 0; p < l; p++) {                        // out ← LSE-weighted combination with round r
                int i = st.perm[po + p], oo = ho + i * d;
                float mr = mR[p], mold = mxAll[lo + i];
                if (mr == Float.NEGATIVE_INFINITY) continue;
                if (mold == Float.NEGATIVE_INFINITY) {
                    System.arraycopy(sc.os, p * d, out, oo, d);
                    mxAll[lo + i] = mr;
                    lzAll[lo + i] = lzR[p];
                    continue;
                }
                float mx = Math.max(mold, mr);
                float ea = (float) Math.exp(mold - mx + lzAll[lo + i]), eb = (float) Math.exp(mr - mx + lzR[p]);
                float z = ea + eb;
                kern.scale(out, oo, d, ea / z);
                kern.axpy(eb / z, sc.os, p * d, out, oo, d);
                mxAll[lo + i] = mx;
                lzAll[lo + i] = (float) Math.log(z);
            }
        }
        for (int i = 0; i < l; i++)
            if (mxAll[lo + i] == Float.NEGATIVE_INFINITY) mxAll[lo + i] = Float.POSITIVE_INFINITY;  // backward: P = 0
    }

    @Override
    public void backward(Saved saved, float[] dout, float[] dq, float[] dk, float[] dv) {
        if (!(saved instanceof State st) || st.owner != this)
            throw new IllegalArgumentException("saved state is not from this " + name());
        Dims dims = st.dims;
        Attention.checkBackward(dims, dout, dq, dk, dv);
        kern.parallelFor(dims.bh(), bh -> backwardHead(st, dout, dq, dk, dv, bh));
    }

    /** Every round's chunk pairs of head bh with P̃ = e^(s − lse); then the normalisation's Jacobian. */
    private void backwardHead(State st, float[] dout, float[] dq, float[] dk, float[] dv, int bh) {
        Dims dims = st.dims;
        int l = dims.lq(), d = dims.dim(), b = bh / dims.heads(), ho = bh * l * d, lo = bh * l;
        int cw = window(l), sw = Math.min(2 * cw, l);
        float scale = (float) (1.0 / Math.sqrt(d));
        Scratch sc = scratch(l, d, true);
        float[] s = sc.s, dp = sc.dp, mxS = sc.rowA, deltaS = sc.rowB, lzS = sc.rowC, dos = sc.os;
        normalise(st.q, ho, l, d, sc);
        for (int i = 0; i < l; i++) sc.delta[i] = kern.dot(dout, ho + i * d, st.o, ho + i * d, d);  // Δ = dout·out
        Arrays.fill(dq, ho, ho + l * d, 0f);
        Arrays.fill(dk, ho, ho + l * d, 0f);
        Arrays.fill(dv, ho, ho + l * d, 0f);
        Arrays.fill(sc.dkh, 0, l * d, 0f);
        for (int r = 0; r < rounds; r++) {
            int po = (r * dims.bh() + bh) * l;
            int[] perm = st.perm;
            gather(st.q, ho, perm, po, l, d, sc.qs);
            gather(sc.khat, 0, perm, po, l, d, sc.ks);
            gather(st.v, ho, perm, po, l, d, sc.vs);
            gather(dout, ho, perm, po, l, d, dos);
            for (int p = 0; p < l; p++) {
                mxS[p] = st.mx[lo + perm[po + p]];
                lzS[p] = (float) Math.exp(-st.lz[lo + perm[po + p]]);
                deltaS[p] = sc.delta[perm[po + p]];
            }
            Arrays.fill(sc.dqs, 0, l * d, 0f);
            Arrays.fill(sc.dks, 0, l * d, 0f);
            Arrays.fill(sc.dvs, 0, l * d, 0f);
            for (int c0 = 0; c0 < l; c0 += cw) {
                int nq = Math.min(cw, l - c0), k0 = Math.max(0, c0 - cw), nk = c0 + nq - k0;
                kern.gemm(false, true, nq, nk, d, scale, sc.qs, c0 * d, d, sc.ks, k0 * d, d, 0f, s, 0, sw); // Q K̂ᵀ/√D
                for (int a = 0; a < nq; a++) {                                          // P̃ = e^(s − lse)
                    int row = a * sw;
                    maskRow(s, row, perm[po + c0 + a], perm, po + k0, nk, st.keyMask, b * l);
                    kern.expAffine(s, row, nk, -mxS[c0 + a], lzS[c0 + a], 0f);  // e^(s − mx)·e^(−lz)
                }
                kern.gemm(true, false, nk, d, nq, 1f, s, 0, sw, dos, c0 * d, d, 1f, sc.dvs, k0 * d, d);  // dv += P̃ᵀ dO
                kern.gemm(false, true, nq, nk, d, 1f, dos, c0 * d, d, sc.vs, k0 * d, d, 0f, dp, 0, sw);  // dP = dO Vᵀ
                for (int a = 0; a < nq; a++) {                                          // dS = P̃ ⊙ (dP − Δ)
                    int row = a * sw;
                    float dl = deltaS[c0 + a];
                    for (int t = 0; t < nk; t++) dp[row + t] = s[row + t] * (dp[row + t] - dl);
                    dp[row + c0 + a - k0] = 0f;                                         // s_ii = −1e5 is constant
                }
                kern.gemm(false, false, nq, d, nk, scale, dp, 0, sw, sc.ks, k0 * d, d, 1f, sc.dqs, c0 * d, d); // dS K̂
                kern.gemm(true, false, nk, d, nq, scale, dp, 0, sw, sc.qs, c0 * d, d, 1f, sc.dks, k0 * d, d); // dSᵀ Q
            }
            for (int p = 0; p < l; p++) {                                               // scatter to original order
                int i = perm[po + p];
                kern.axpy(1f, sc.dqs, p * d, dq, ho + i * d, d);
                kern.axpy(1f, sc.dks, p * d, sc.dkh, i * d, d);
                kern.axpy(1f, sc.dvs, p * d, dv, ho + i * d, d);
            }
        }
        for (int j = 0; j < l; j++) {                                                   // dq += (I − k̂k̂ᵀ) dk̂ / |q|
            float inv = sc.inv[j];
            if (inv == 0f) continue;
            float t = kern.dot(sc.khat, j * d, sc.dkh, j * d, d);
            kern.axpy(inv, sc.dkh, j * d, dq, ho + j * d, d);
            kern.axpy(-inv * t, sc.khat, j * d, dq, ho + j * d, d);
        }
    }
}
