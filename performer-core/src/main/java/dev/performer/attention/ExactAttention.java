package dev.performer.attention;

import dev.performer.kernel.Kernels;
import java.util.Arrays;

/**
 * Exact softmax attention out = softmax(q kᵀ/√D + mask) v as a tiled kernel with an online
 * softmax (FlashAttention's scheme): no Lq×Lk matrix is ever held, memory is O(L·D) per head.
 *
 * <p>Forward, for each block of {@value #BQ} query rows against blocks of {@value #BK} keys
 * (blocks above the diagonal skipped when causal), keeps per row a running max m and sum l:
 * <pre>
 *   S = q_I k_Jᵀ/√D (masked entries −∞),  m' = max(m, rowmax S),  P = exp(S − m'),
 *   l = l·e^(m − m') + rowsum P,  O = O·e^(m − m') + P v_J;   at the end O /= l,  lse = m + ln l
 * </pre>
 * A row with no visible key (all masked) gets O = 0, as in the materialising reference.
 * Backward recomputes each block's probabilities from the saved row statistics lse:
 * <pre>
 *   P = exp(S − lse),  Δ = rowsum(dO ⊙ O),  dv_J += Pᵀ dO_I,  dP = dO_I v_Jᵀ,  dS = P ⊙ (dP − Δ),
 *   dq_I += dS k_J/√D,  dk_J += dSᵀ q_I/√D
 * </pre>
 * Forward runs in parallel over (batch·head, query block), backward over (batch·head, part of the
 * key blocks) with {@link #keyParts} choosing the split, so one head uses every core both ways.
 * All products are {@link Kernels#gemm} calls on tiles.
 */
public final class ExactAttention implements Attention {

    /**
     * Query rows per tile: a whole number of the GEMM's row panels on AVX-512 (14 rows) and AVX2 (6).
     * At 64 the tiles ended in an 8-row panel run by the 14-row kernel; 84 was 5-12% faster than 64 on
     * AVX-512 (L 4096, H 8, 2 threads, forward and forward+backward, both directions), 42 slower.
     */
    static final int BQ = 84;
    /**
     * Keys per tile: at 128 the layer was 10-16% slower on AVX-512 (L 4096, H 8, 2 threads), at 512 the
     * same bidirectional and 2-3% slower causal (results/causal-jfr/exact-key-tile.txt).
     */
    static final int BK = 256;

    private final Kernels kern;
    private final boolean causal;

    public ExactAttention(Kernels kern, boolean causal) {
        this.kern = kern;
        this.causal = causal;
    }

    @Override public String name() { return causal ? "exact/causal" : "exact/bidir"; }
    @Override public boolean causal() { return causal; }

    /** What backward needs: the inputs (referenced), a copy of the output O and the row log-sum-exps. */
    private static final class State implements Saved {
        Dims dims;
        float[] q, k, v, keyMask;
        float[] o;      // (B, H, Lq, D) copy of the output
        float[] lse;    // (B, H, Lq) m + ln l per row; +∞ for a row with no visible key
        float[] delta;  // (B, H, Lq) backward's Δ = rowsum(dO ⊙ O)
        float[] dqPart; // (parts − 1, B, H, Lq, D) dq of the key parts but the first (see keyParts)
        final ExactAttention owner;

        State(ExactAttention owner) { this.owner = owner; }

        @Override public Dims dims() { return dims; }
    }

    /** Per-thread tiles: scores/probabilities S (BQ×BK), dP (BQ×BK), row max m and row sum l (BQ). */
    private static final class Scratch {
        final float[] s = new float[BQ * BK], dp = new float[BQ * BK];
        final float[] m = new float[BQ], l = new float[BQ];
    }

    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    @Override
    public Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out, Saved reuse) {
        Attention.checkForward(this, dims, q, k, v, keyMask, out);
        State st = reuse instanceof State r && r.owner == this ? r : new State(this);
        if (st.o == null || st.o.length != dims.qSize()) st.o = new float[dims.qSize()];
        if (st.lse == null || st.lse.length != dims.bh() * dims.lq()) st.lse = new float[dims.bh() * dims.lq()];
        st.dims = dims; st.q = q; st.k = k; st.v = v; st.keyMask = keyMask;
        int lq = dims.lq(), blocks = (lq + BQ - 1) / BQ;
        kern.parallelFor(dims.bh() * blocks, task -> forwardTile(dims, q, k, v, keyMask, out, st.lse, task / blocks,
                (task % blocks) * BQ));
        System.arraycopy(out, 0, st.o, 0, out.length);
        return st;
    }

    /** Rows [i0, i0 + BQ) of head bh: online softmax over the key tiles they see. */
    private void forwardTile(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out, float[] lse,
                             int bh, int i0) {
        int lq = dims.lq(), lk = dims.lk(), d = dims.dim(), b = bh / dims.heads();
        int nq = Math.min(BQ, lq - i0), qo = (bh * lq + i0) * d, ko = bh * lk * d;
        float scale = (float) (1.0 / Math.sqrt(d));
        Scratch sc = scratch.get();
        float[] s = sc.s, m = sc.m, l = sc.l;
        Arrays.fill(m, 0, nq, Float.NEGATIVE_INFINITY);
        Arrays.fill(l, 0, nq, 0f);
        Arrays.fill(out, qo, qo + nq * d, 0f);
        int kEnd = causal ? Math.min(lk, i0 + nq) : lk;
        for (int j0 = 0; j0 < kEnd; j0 += BK) {
            int nk = Math.min(BK, kEnd - j0);
            kern.gemm(false, true, nq, nk, d, scale, q, qo, d, k, ko + j0 * d, d, 0f, s, 0, BK);  // S = q kᵀ/√D
            for (int r = 0; r < nq; r++) {
                int row = r * BK, visible = visible(i0 + r, j0, nk);
                float mx = maskAndMax(s, row, visible, nk, keyMask, b * lk + j0);
                float mNew = Math.max(m[r], mx);
                if (mNew == Float.NEGATIVE_INFINITY) {       // nothing visible yet: P = 0, O and l unchanged
                    Arrays.fill(s, row, row + nk, 0f);
                    continue;
                }
                kern.expAffine(s, row, visible, -mNew, 1f, 0f);  // exp(−∞) = 0 for masked keys
                Arrays.fill(s, row + visible, row + nk, 0f);
                float alpha = (float) Math.exp(m[r] - mNew);      // 0 when m was −∞
                l[r] = l[r] * alpha + kern.sum(s, row, visible);
                if (alpha != 1f) kern.scale(out, qo + r * d, d, alpha);
                m[r] = mNew;
            }
            kern.gemm(false, false, nq, d, nk, 1f, s, 0, BK, v, ko + j0 * d, d, 1f, out, qo, d);  // O += P v
        }
        for (int r = 0; r < nq; r++) {
            int at = bh * lq + i0 + r;
            if (l[r] > 0f) {
                kern.scale(out, qo + r * d, d, 1f / l[r]);
                lse[at] = m[r] + (float) Math.log(l[r]);
            } else {                                         // no visible key: output 0, and P = 0 in backward
                Arrays.fill(out, qo + r * d, qo + (r + 1) * d, 0f);
                lse[at] = Float.POSITIVE_INFINITY;
            }
        }
    }

    /** Keys of the tile [j0, j0 + nk) that query i may see: all, or those with j ≤ i when causal. */
    private int visible(int i, int j0, int nk) {
        return causal ? Math.max(0, Math.min(nk, i - j0 + 1)) : nk;
    }

    /** Sets the masked keys of the visible part of a score row to −∞; returns the max of the rest (−∞ if none). */
    private float maskAndMax(float[] s, int row, int visible, int nk, float[] keyMask, int maskOff) {
        if (visible == 0) return Float.NEGATIVE_INFINITY;
        if (keyMask == null) return kern.max(s, row, visible);
        float mx = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < visible; j++) {
            if (keyMask[maskOff + j] == 0f) s[row + j] = Float.NEGATIVE_INFINITY;
            else mx = Math.max(mx, s[row + j]);
        }
        return mx;
    }

    @Override
    public void backward(Saved saved, float[] dout, float[] dq, float[] dk, float[] dv) {
        if (!(saved instanceof State st) || st.owner != this)
            throw new IllegalArgumentException("saved state is not from this " + name());
        Dims dims = st.dims;
        Attention.checkBackward(dims, dout, dq, dk, dv);
        int bhN = dims.bh(), lq = dims.lq(), d = dims.dim(), kBlocks = (dims.lk() + BK - 1) / BK;
        int parts = keyParts(bhN, kern.threads(), kBlocks);
        if (st.delta == null || st.delta.length != bhN * lq) st.delta = new float[bhN * lq];
        kern.parallelFor(bhN, bh -> {                                                 // Δ = rowsum(dO ⊙ O)
            for (int i = 0, o = bh * lq * d; i < lq; i++, o += d)
                st.delta[bh * lq + i] = kern.dot(dout, o, st.o, o, d);
        });
        long partFloats = (long) (parts - 1) * bhN * lq * d;
        if (partFloats > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("exact backward: " + partFloats + " floats of partial dq");
        if (st.dqPart == null || st.dqPart.length != partFloats) st.dqPart = new float[(int) partFloats];
        kern.parallelFor(bhN * parts, task -> backwardKeys(st, dout, dq, dk, dv, task / parts, task % parts, parts));
        if (parts > 1)
            kern.parallelFor(bhN, bh -> {
                for (int p = 1; p < parts; p++)
                    kern.axpy(1f, st.dqPart, ((p - 1) * bhN + bh) * lq * d, dq, bh * lq * d, lq * d);
            });
    }

    /**
     * Into how many parts backward splits each head's key blocks (part p takes blocks p, p + parts, …,
     * interleaved so that causal parts get similar work): 1 when the batch·heads alone keep the threads
     * busy and balanced, else enough parts for about two tasks per thread. A part other than the first
     * accumulates its dq in a buffer of its own ((parts − 1)·B·H·Lq·D floats, linear in L), summed at the end.
     */
    static int keyParts(int bh, int threads, int kBlocks) {
        if (threads <= 1 || bh >= 2 * threads || (bh >= threads && bh % threads == 0)) return 1;
        return Math.max(1, Math.min(kBlocks, (2 * threads + bh - 1) / bh));
    }

    /**
     * Key blocks p, p + parts, … of head bh against every query block forward paired them with (for
     * causal, the blocks from the one holding the key block's first row on): dk and dv of those key
     * rows complete, dq accumulated into dq (part 0) or the part's own buffer.
     */
    private void backwardKeys(State st, float[] dout, float[] dq, float[] dk, float[] dv, int bh, int p, int parts) {
        Dims dims = st.dims;
        int lq = dims.lq(), lk = dims.lk(), d = dims.dim(), b = bh / dims.heads(), bhN = dims.bh();
        int qh = bh * lq * d, ko = bh * lk * d;
        float[] dqT = p == 0 ? dq : st.dqPart;
        int dqh = p == 0 ? qh : ((p - 1) * bhN + bh) * lq * d;
        float scale = (float) (1.0 / Math.sqrt(d));
        Arrays.fill(dqT, dqh, dqh + lq * d, 0f);
        Scratch sc = scratch.get();
        float[] s = sc.s, dp = sc.dp;
        for (int j0 = p * BK; j0 < lk; j0 += parts * BK) {
            int nk = Math.min(BK, lk - j0), kj = ko + j0 * d;
            Arrays.fill(dk, kj, kj + nk * d, 0f);
            Arrays.fill(dv, kj, kj + nk * d, 0f);
            for (int i0 = causal ? j0 / BQ * BQ : 0; i0 < lq; i0 += BQ) {
                int nq = Math.min(BQ, lq - i0), qo = qh + i0 * d;
                kern.gemm(false, true, nq, nk, d, scale, st.q, qo, d, st.k, kj, d, 0f, s, 0, BK);  // S = q kᵀ/√D
                for (int r = 0; r < nq; r++) {                                         // P = exp(S − lse)
                    int row = r * BK, visible = visible(i0 + r, j0, nk);
                    if (st.keyMask != null)
                        for (int j = 0; j < visible; j++)
                            if (st.keyMask[b * lk + j0 + j] == 0f) s[row + j] = Float.NEGATIVE_INFINITY;
                    kern.expAffine(s, row, visible, -st.lse[bh * lq + i0 + r], 1f, 0f);
                    Arrays.fill(s, row + visible, row + nk, 0f);
                }
                kern.gemm(true, false, nk, d, nq, 1f, s, 0, BK, dout, qo, d, 1f, dv, kj, d);      // dv += Pᵀ dO
                kern.gemm(false, true, nq, nk, d, 1f, dout, qo, d, st.v, kj, d, 0f, dp, 0, BK);   // dP = dO vᵀ
                for (int r = 0; r < nq; r++) {                                         // dS = P ⊙ (dP − Δ)
                    int row = r * BK;
                    float dr = st.delta[bh * lq + i0 + r];
                    for (int j = 0; j < nk; j++) dp[row + j] = s[row + j] * (dp[row + j] - dr);
                }
                kern.gemm(false, false, nq, d, nk, scale, dp, 0, BK, st.k, kj, d, 1f, dqT, dqh + i0 * d, d); // dq+=dS k
                kern.gemm(true, false, nk, d, nq, scale, dp, 0, BK, st.q, qo, d, 1f, dk, kj, d);  // dk += dSᵀ q
            }
        }
    }
}
