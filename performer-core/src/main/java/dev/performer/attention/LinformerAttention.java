package dev.performer.attention;

import dev.performer.kernel.Kernels;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Linformer attention (Wang et al. 2020, "Linformer: Self-Attention with Linear Complexity"):
 * keys and values are projected along the sequence to kk rows by learned matrices E, F before a
 * softmax attention, so a head costs O(Lq·kk·D + Lk·kk·D) time and O(L·kk) memory.
 *
 * <p>E and F have shape (P, kk, maxLen), row-major float32 in a caller-owned flat buffer
 * ({@code params} at eOff and fOff; their gradients at the same offsets of {@code grads}); P = 1
 * shares them between all heads of the layer, P = H gives head h its own slice p = h. For Lk ≤
 * maxLen keys only the first Lk columns are used, E_L = E[:, :Lk]. Per (b, h), with the key mask
 * M = diag(mask_b) (masked keys' rows of K and V are zero before the projection):
 * <pre>
 *   K' = E_L M K (kk×D),  V' = F_L M V (kk×D),  S = Q K'ᵀ/√D (Lq×kk),  P = softmax_row(S),  O = P V'
 * </pre>
 * Backward of sum(O ⊙ dO):
 * <pre>
 *   dV' = Pᵀ dO,  dP = dO V'ᵀ,  dS = P ⊙ (dP − rowsum(P ⊙ dP)),  dQ = dS K'/√D,  dK' = dSᵀ Q/√D,
 *   dK = M E_Lᵀ dK',  dV = M F_Lᵀ dV',  dE_L += dK' (M K)ᵀ,  dF_L += dV' (M V)ᵀ
 * </pre>
 * where dE, dF accumulate (+=) over batch rows and, when shared, over heads. The projection runs
 * along the sequence, so a query sees (mixtures of) later keys: Linformer is bidirectional only,
 * {@link #causal()} is false. Lq may differ from Lk (cross attention).
 *
 * <p>Forward and the input gradients run in parallel over batch·head; the parameter gradients in
 * a second pass, in parallel over ({@code slice}, block of {@value #BC} key columns), each task
 * owning its block of dE and dF, so there are no races and the sums are deterministic. Every
 * product is a {@link Kernels#gemm} call; per-thread scratch and the recycled {@link Saved} keep a
 * training step free of allocations.
 */
public final class LinformerAttention implements Attention {

    /** Key columns of dE, dF per task of the parameter-gradient pass. */
    static final int BC = 64;

    private final Kernels kern;
    private final int kk, maxLen, heads, slices;
    private final boolean headwise;
    private final float[] params, grads;
    private final int eOff, fOff;

    /**
     * A Linformer layer over {@code heads} heads projecting to {@code projected} rows. E lives at
     * {@code params[eOff ..)} and F at {@code params[fOff ..)}, each (P, kk, maxLen) with P = H when
     * headwise and 1 otherwise; backward adds their gradients into {@code grads} at the same offsets
     * (grads may be null for an inference-only layer).
     */
    public LinformerAttention(Kernels kern, int projected, int maxLen, int heads, boolean headwise,
                              float[] params, int eOff, int fOff, float[] grads) {
        if (kern == null) throw new IllegalArgumentException("linformer: kernels are missing");
        if (projected < 1) throw new IllegalArgumentException("linformer: projected length kk must be >= 1, got "
                + projected);
        if (maxLen < 1) throw new IllegalArgumentException("linformer: maxLen must be >= 1, got " + maxLen);
        if (heads < 1) throw new IllegalArgumentException("linformer: heads must be >= 1, got " + heads);
        if (params == null) throw new IllegalArgumentException("linformer: params buffer is missing");
        this.kern = kern;
        this.kk = projected;
        this.maxLen = maxLen;
        this.heads = heads;
        this.headwise = headwise;
        this.slices = headwise ? heads : 1;
        long size = (long) slices * projected * maxLen;
        if (size > Integer.MAX_VALUE)
            throw new IllegalArgumentException("linformer: E of " + slices + "x" + projected + "x" + maxLen
                    + " does not fit a float[]");
        checkRange("E", eOff, size, params.length);
        checkRange("F", fOff, size, params.length);
        if (Math.abs((long) eOff - fOff) < size)
            throw new IllegalArgumentException("linformer: E at " + eOff + " and F at " + fOff
                    + " overlap (each holds " + size + " floats)");
        if (grads != null && grads.length != params.length)
            throw new IllegalArgumentException("linformer: grads has " + grads.length + " elements, params "
                    + params.length + " (gradients live at the same offsets)");
        this.params = params;
        this.grads = grads;
        this.eOff = eOff;
        this.fOff = fOff;
    }

    /**
     * As the constructor, for a factory that is handed a direction: rejects {@code causal = true},
     * since the projection along the sequence mixes future keys into every projected row.
     */
    public static LinformerAttention create(Kernels kern, int projected, int maxLen, int heads, boolean headwise,
                                            boolean causal, float[] params, int eOff, int fOff, float[] grads) {
        if (causal)
            throw new IllegalArgumentException("linformer cannot be causal (causal=" + causal + " requested with kk="
                    + projected + ", maxLen=" + maxLen + "): E and F mix all keys; use exact or favor attention");
        return new LinformerAttention(kern, projected, maxLen, heads, headwise, params, eOff, fOff, grads);
    }

    /** Floats of E (or F): P·kk·maxLen with P = heads when headwise, else 1. */
    public static int paramSize(int projected, int maxLen, int heads, boolean headwise) {
        return Math.multiplyExact(Math.multiplyExact(headwise ? heads : 1, projected), maxLen);
    }

    /**
     * Fills {@code params[off, off + size)} (one E or F) with uniform(−1/√kk, 1/√kk) draws from
     * {@code new SplittableRandom(seed)}, as lucidrains/linformer initialises its projections.
     */
    public static void init(float[] params, int off, int size, int projected, long seed) {
        if (params == null) throw new IllegalArgumentException("linformer init: params buffer is missing");
        if (projected < 1)
            throw new IllegalArgumentException("linformer init: projected length kk must be >= 1, got " + projected);
        if (size < 0) throw new IllegalArgumentException("linformer init: negative size " + size);
        checkRange("init", off, size, params.length);
        double bound = 1 / Math.sqrt(projected);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < size; i++) params[off + i] = (float) r.nextDouble(-bound, bound);
    }

    private static void checkRange(String what, int off, long size, int length) {
        if (off < 0 || off + size > length)
            throw new IllegalArgumentException("linformer: " + what + " needs " + size + " floats at offset " + off
                    + ", buffer holds " + length);
    }

    @Override public String name() { return "linformer"; }
    @Override public boolean causal() { return false; }

    /** Projected length kk. */
    public int projected() { return kk; }
    /** Longest key sequence E and F cover. */
    public int maxLen() { return maxLen; }
    /** Whether each head has its own E, F. */
    public boolean headwise() { return headwise; }

    /** What backward needs: the inputs (referenced), K', V', the probabilities P and room for dK', dV'. */
    private static final class State implements Saved {
        Dims dims;
        float[] q, k, v, keyMask;
        float[] kp, vp;      // (B, H, kk, D) K' and V'
        float[] prob;        // (B, H, Lq, kk) softmax probabilities
        float[] dkp, dvp;    // (B, H, kk, D) dK' and dV', written by backward's first pass
        final LinformerAttention owner;

        State(LinformerAttention owner) { this.owner = owner; }

        @Override public Dims dims() { return dims; }
    }

    /**
     * Per-thread scratch, grown to the largest call seen: masked copies of E_L and F_L (kk×Lk), dS
     * (Lq×kk), a dE/dF block (kk×BC); and where the current head's projections are read from.
     */
    private static final class Scratch {
        float[] em = new float[0], fm = new float[0], ds = new float[0], blk = new float[0];
        float[] eArr, fArr;
        int eAt, fAt, ld;
    }

    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    private static float[] fit(float[] a, int n) { return a.length >= n ? a : new float[n]; }

    private static float[] exact(float[] a, int n) { return a != null && a.length == n ? a : new float[n]; }

    @Override
    public Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out, Saved reuse) {
        Attention.checkForward(this, dims, q, k, v, keyMask, out);
        if (dims.heads() != heads)
            throw new IllegalArgumentException("linformer: layer has " + heads + " heads, input " + dims);
        if (dims.lk() > maxLen)
            throw new IllegalArgumentException("linformer: " + dims.lk() + " keys exceed maxLen " + maxLen
                    + " of the projections E, F");
        State st = reuse instanceof State r && r.owner == this ? r : new State(this);
        int proj = dims.bh() * kk * dims.dim();
        st.kp = exact(st.kp, proj);
        st.vp = exact(st.vp, proj);
        st.dkp = exact(st.dkp, proj);
        st.dvp = exact(st.dvp, proj);
        st.prob = exact(st.prob, dims.bh() * dims.lq() * kk);
        st.dims = dims; st.q = q; st.k = k; st.v = v; st.keyMask = keyMask;
        kern.parallelFor(dims.bh(), bh -> forwardHead(st, out, bh));
        return st;
    }

    /**
     * Points sc at head bh's E_L and F_L: the parameters themselves (ld maxLen), or with a key mask
     * copies with the masked columns zero (ld Lk).
     */
    private void projections(Scratch sc, float[] keyMask, int bh, int lk) {
        int p = headwise ? bh % heads : 0, at = p * kk * maxLen;
        if (keyMask == null) {
            sc.eArr = params; sc.eAt = eOff + at;
            sc.fArr = params; sc.fAt = fOff + at;
            sc.ld = maxLen;
            return;
        }
        sc.em = fit(sc.em, kk * lk);
        sc.fm = fit(sc.fm, kk * lk);
        int m = (bh / heads) * lk;
        for (int r = 0; r < kk; r++) {
            int e = eOff + at + r * maxLen, f = fOff + at + r * maxLen, row = r * lk;
            for (int j = 0; j < lk; j++) {
                boolean keep = keyMask[m + j] != 0f;
                sc.em[row + j] = keep ? params[e + j] : 0f;
                sc.fm[row + j] = keep ? params[f + j] : 0f;
            }
        }
        sc.eArr = sc.em; sc.eAt = 0;
        sc.fArr = sc.fm; sc.fAt = 0;
        sc.ld = lk;
    }

    private void forwardHead(State st, float[] out, int bh) {
        Dims dims = st.dims;
        int lq = dims.lq(), lk = dims.lk(), d = dims.dim();
        int qo = bh * lq * d, ko = bh * lk * d, po = bh * kk * d, so = bh * lq * kk;
        float scale = (float) (1.0 / Math.sqrt(d));
        Scratch sc = scratch.get();
        projections(sc, st.keyMask, bh, lk);
        kern.gemm(false, false, kk, d, lk, 1f, sc.eArr, sc.eAt, sc.ld, st.k, ko, d, 0f, st.kp, po, d); // K' = E_L K
        kern.gemm(false, false, kk, d, lk, 1f, sc.fArr, sc.fAt, sc.ld, st.v, ko, d, 0f, st.vp, po, d); // V' = F_L V
        float[] p = st.prob;
        kern.gemm(false, true, lq, kk, d, scale, st.q, qo, d, st.kp, po, d, 0f, p, so, kk);          // S = Q K'ᵀ/√D
        for (int r = 0; r < lq; r++) {                                                                // P = softmax S
            int row = so + r * kk;
            kern.expAffine(p, row, kk, -kern.max(p, row, kk), 1f, 0f);
            kern.scale(p, row, kk, 1f / kern.sum(p, row, kk));
        }
        kern.gemm(false, false, lq, d, kk, 1f, p, so, kk, st.vp, po, d, 0f, out, qo, d);              // O = P V'
    }

    @Override
    public void backward(Saved saved, float[] dout, float[] dq, float[] dk, float[] dv) {
        if (!(saved instanceof State st) || st.owner != this)
            throw new IllegalArgumentException("saved state is not from this " + name());
        if (grads == null)
            throw new IllegalStateException("linformer: no gradient buffer for E, F (constructed with grads null)");
        Dims dims = st.dims;
        Attention.checkBackward(dims, dout, dq, dk, dv);
        kern.parallelFor(dims.bh(), bh -> backwardHead(st, dout, dq, dk, dv, bh));
        int blocks = (dims.lk() + BC - 1) / BC;
        kern.parallelFor(slices * blocks, t -> paramBlock(st, t / blocks, (t % blocks) * BC));
    }

    /** dq, dk, dv of head bh (overwritten), and its dK', dV' for the parameter pass. */
    private void backwardHead(State st, float[] dout, float[] dq, float[] dk, float[] dv, int bh) {
        Dims dims = st.dims;
        int lq = dims.lq(), lk = dims.lk(), d = dims.dim();
        int qo = bh * lq * d, ko = bh * lk * d, po = bh * kk * d, so = bh * lq * kk;
        float scale = (float) (1.0 / Math.sqrt(d));
        Scratch sc = scratch.get();
        sc.ds = fit(sc.ds, lq * kk);
        float[] ds = sc.ds, p = st.prob;
        kern.gemm(true, false, kk, d, lq, 1f, p, so, kk, dout, qo, d, 0f, st.dvp, po, d);      // dV' = Pᵀ dO
        kern.gemm(false, true, lq, kk, d, 1f, dout, qo, d, st.vp, po, d, 0f, ds, 0, kk);      // dP = dO V'ᵀ
        for (int r = 0; r < lq; r++) {                                                        // dS = P ⊙ (dP − Δ)
            int row = r * kk;
            float delta = kern.dot(p, so + row, ds, row, kk);
            for (int j = 0; j < kk; j++) ds[row + j] = p[so + row + j] * (ds[row + j] - delta);
        }
        kern.gemm(false, false, lq, d, kk, scale, ds, 0, kk, st.kp, po, d, 0f, dq, qo, d);    // dQ = dS K'/√D
        kern.gemm(true, false, kk, d, lq, scale, ds, 0, kk, st.q, qo, d, 0f, st.dkp, po, d);  // dK' = dSᵀ Q/√D
        projections(sc, st.keyMask, bh, lk);
        kern.gemm(true, false, lk, d, kk, 1f, sc.eArr, sc.eAt, sc.ld, st.dkp, po, d, 0f, dk, ko, d); // dK = E_Lᵀ dK'
        kern.gemm(true, false, lk, d, kk, 1f, sc.fArr, sc.fAt, sc.ld, st.dvp, po, d, 0f, dv, ko, d); // dV = F_Lᵀ dV'
        if (st.keyMask != null) {                        // exactly +0 for masked keys, whatever the gemm's signs
            int m = (bh / heads) * lk;
            for (int j = 0; j < lk; j++) {
                if (st.keyMask[m + j] == 0f) {
                    Arrays.fill(dk, ko + j * d, ko + (j + 1) * d, 0f);
                    Arrays.fill(dv, ko + j * d, ko + (j + 1) * d, 0f);
                }
            }
        }
    }

    /**
     * Columns [j0, j0 + BC) of slice p of dE and dF: += dK' (M K)ᵀ and dV' (M V)ᵀ summed over the
     * batch rows and the heads that use slice p (all heads when shared).
     */
    private void paramBlock(State st, int p, int j0) {
        Dims dims = st.dims;
        int lk = dims.lk(), d = dims.dim(), nc = Math.min(BC, lk - j0);
        int ge = eOff + p * kk * maxLen + j0, gf = fOff + p * kk * maxLen + j0;
        int h0 = headwise ? p : 0, h1 = headwise ? p + 1 : heads;
        float[] mask = st.keyMask;
        Scratch sc = mask == null ? null : scratch.get();
        if (sc != null) sc.blk = fit(sc.blk, 2 * kk * nc);
        for (int b = 0; b < dims.batch(); b++) {
            if (mask == null) {
                for (int h = h0; h < h1; h++) {                    // dE += dK' Kᵀ, dF += dV' Vᵀ
                    int bh = b * heads + h, po = bh * kk * d, ko = (bh * lk + j0) * d;
                    kern.gemm(false, true, kk, nc, d, 1f, st.dkp, po, d, st.k, ko, d, 1f, grads, ge, maxLen);
                    kern.gemm(false, true, kk, nc, d, 1f, st.dvp, po, d, st.v, ko, d, 1f, grads, gf, maxLen);
                }
                continue;
            }
            float[] blk = sc.blk;                        // this batch row's sum over heads, then masked columns dropped
            int fb = kk * nc;
            for (int h = h0; h < h1; h++) {
                int bh = b * heads + h, po = bh * kk * d, ko = (bh * lk + j0) * d;
                float beta = h == h0 ? 0f : 1f;
                kern.gemm(false, true, kk, nc, d, 1f, st.dkp, po, d, st.k, ko, d, beta, blk, 0, nc);
                kern.gemm(false, true, kk, nc, d, 1f, st.dvp, po, d, st.v, ko, d, beta, blk, fb, nc);
            }
            int m = b * lk + j0;
            for (int r = 0; r < kk; r++) {
                for (int j = 0; j < nc; j++) {
                    if (mask[m + j] == 0f) continue;
                    grads[ge + r * maxLen + j] += blk[r * nc + j];
                    grads[gf + r * maxLen + j] += blk[fb + r * nc + j];
                }
            }
        }
    }
}
