package dev.performer.attention;

import dev.performer.kernel.Kernels;
import java.util.Arrays;

/**
 * FAVOR+ attention: D⁻¹(φ(Q)(φ(K)ᵀV)), bidirectional or causal, with a hand-written backward.
 *
 * <p>Per batch-head, with Φq = φ(Q) (Lq×Mf), Φk = φ(K) (Lk×Mf, masked rows zero):
 * <pre>
 *   bidirectional  S = Φkᵀ V (Mf×D), z = Φkᵀ 1 (Mf);  num = Φq S, den = Φq z, out = num / den
 *   causal (chunks of T rows c):  A = tril(Φq[c] Φk[c]ᵀ)
 *                  num[c] = Φq[c] S + A V[c],  den[c] = Φq[c] z + A 1,  then S += Φk[c]ᵀ V[c], z += Φk[c]ᵀ 1
 * </pre>
 * Backward, with G = dout / den and g = −(dout·out) / den (per row):
 * <pre>
 *   dΦq_i = S_i G_i + z_i g_i,     dΦk_j = R_j v_j + r_j,    dv_j = R_jᵀ φk_j
 *   where S_i, z_i are the prefix states (all keys when bidirectional) and
 *   R_j = Σ_{i≥j} φq_i G_iᵀ, r_j = Σ_{i≥j} φq_i g_i are suffix states (all queries when bidirectional).
 * </pre>
 * The causal backward runs one forward sweep over chunks (rebuilding S, z by accumulation) and one
 * reverse sweep (accumulating R, r); within a chunk the work is masked T×T GEMMs. Nothing is ever
 * rebuilt by subtraction. Features are never stored for a whole sequence: forward and backward
 * compute φ block by block (backward recomputes them), so the attention keeps O(L) per head
 * (the denominators) plus O(Mf·D) states, with O(T·Mf + T²) scratch per thread: no O(L·M) and
 * no O(L·M·D) tensor. dq, dk come from {@link FeatureMap#backward} block by block.
 *
 * <p>OPRF (FAVOR++) features: an adaptive map, in bidirectional attention, takes A* per batch-head
 * from ρ of that head's queries and unmasked keys ({@link FeatureMap#rho}, O(L·D)) and keeps it for
 * backward, which holds it constant; causal attention uses {@link FeatureMap#fixedA}, so that no
 * position sees statistics of later ones.
 */
public final class FavorAttention implements Attention {

    /** Rows per causal chunk: a trade between GEMM efficiency and the 2·L·T·(M+D) intra-chunk flops. */
    public static final int DEFAULT_CHUNK = 64;

    private final Kernels kern;
    private final FeatureMap map;
    private final boolean causal;
    private final int m, d, mf, chunk;
    private final boolean perHead;   // OPRF with A from each batch-head's inputs
    private float[] w;               // (M×D) projection, null without projection
    private float[] wUse;            // what the map computes with (FeatureMap.prepare at the fixed A): w but for OPRF

    /**
     * @param w projection (M×D row-major), copied; null only for a generalized map without projection
     * @param m number of random projections M (ignored without projection)
     */
    public FavorAttention(Kernels kern, FeatureMap map, float[] w, int m, int d, boolean causal) {
        this(kern, map, w, m, d, causal, DEFAULT_CHUNK);
    }

    public FavorAttention(Kernels kern, FeatureMap map, float[] w, int m, int d, boolean causal, int chunk) {
        if (kern == null || map == null) throw new IllegalArgumentException("kernels and feature map are required");
        if (d < 1) throw new IllegalArgumentException("head dim D must be >= 1, got " + d);
        if (chunk < 1) throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        this.kern = kern;
        this.map = map;
        this.causal = causal;
        this.d = d;
        this.m = map.projected() ? m : 0;
        this.mf = map.features(m, d);
        this.chunk = chunk;
        this.perHead = map.adaptive() && !causal;
        if (map.projected()) {
            if (m < 1) throw new IllegalArgumentException("number of random features M must be >= 1, got " + m);
            setProjection(w);
        } else if (w != null) {
            throw new IllegalArgumentException(map.name() + " takes no projection");
        }
    }

    /** FAVOR+ with a freshly drawn projection. */
    public static FavorAttention random(Kernels kern, FeatureMap map, int m, int d, boolean causal,
                                        Projection.Type type, Projection.Scaling scaling, long seed) {
        float[] w = map.projected() ? Projection.draw(type, scaling, m, d, seed) : null;
        return new FavorAttention(kern, map, w, m, d, causal);
    }

    /** Replaces the projection (M×D); a trainer calls this to redraw features. */
    public void setProjection(float[] w) {
        if (!map.projected()) throw new IllegalArgumentException(map.name() + " takes no projection");
        if (w == null || w.length != m * d)
            throw new IllegalArgumentException("projection must be (M=" + m + ", D=" + d + ") = " + m * d
                    + " floats, got " + (w == null ? "none" : w.length));
        for (int i = 0; i < w.length; i++)
            if (!Float.isFinite(w[i])) throw new IllegalArgumentException("projection has a non-finite value at row "
                    + i / d + ", column " + i % d);
        this.w = w.clone();
        this.wUse = map.prepare(this.w, m, d, map.fixedA(d), null);
    }

    /** Draws a new projection from a seed (the redraw API). */
    public void redraw(Projection.Type type, Projection.Scaling scaling, long seed) {
        setProjection(Projection.draw(type, scaling, m, d, seed));
    }

    /** A copy of the projection (M×D), or null without projection. */
    public float[] projection() { return w == null ? null : w.clone(); }

    public FeatureMap featureMap() { return map; }
    public int features() { return mf; }
    public int projections() { return m; }
    public int dim() { return d; }

    @Override public String name() { return "favor-" + map.name() + (causal ? "/causal" : "/bidir"); }
    @Override public boolean causal() { return causal; }

    /**
     * φ(x) for all batch-heads of x (B,H,L,D): (B,H,L,Mf). For inspection and parity tests; OPRF uses
     * its fixed A here (the adaptive one needs the queries and the keys together).
     */
    public float[] features(Dims dims, float[] x, boolean query) {
        int l = query ? dims.lq() : dims.lk();
        dims.checkLen(query ? "q" : "k", x, dims.bh() * l * d, "(B,H,L,D)");
        float[] phi = new float[dims.bh() * l * mf];
        float[] wl = wUse;
        kern.parallelFor(dims.bh(), bh -> map.forward(kern, x, bh * l * d, l, d, wl, m, query, phi, bh * l * mf));
        return phi;
    }

    /**
     * What forward keeps for backward: the denominators (B,H,Lq), the key stabilizer per head
     * (B,H), and for the bidirectional form S (B,H,Mf,D) and z (B,H,Mf). No feature matrix is
     * kept: backward recomputes φ chunk by chunk, so memory stays O(L + Mf·D) per head plus
     * O(T·Mf) scratch per thread. Adaptive OPRF also keeps each head's A (B,H), and w is then the
     * drawn projection, else the prepared one.
     */
    private static final class State implements Saved {
        Dims dims;
        float[] q, k, v, mask, out, w;
        final float[] den, keyMax;
        final float[] s, z;
        final double[] a;
        final FavorAttention owner;

        State(FavorAttention owner, Dims dims) {
            this.owner = owner;
            this.dims = dims;
            int bhN = dims.bh();
            den = new float[bhN * dims.lq()];
            keyMax = new float[bhN];
            s = owner.causal ? null : new float[bhN * owner.mf * owner.d];
            z = owner.causal ? null : new float[bhN * owner.mf];
            a = owner.perHead ? new double[bhN] : null;
        }

        /** Whether this state's buffers have the sizes a forward over dims needs. */
        boolean fits(FavorAttention a, Dims dims) {
            return owner == a && den.length == dims.bh() * dims.lq() && keyMax.length == dims.bh();
        }

        @Override public Dims dims() { return dims; }
    }

    /** Rows per streamed block in the bidirectional form (features of one block live at a time). */
    private static final int STREAM = 256;

    /** Per-task scratch: feature blocks, their gradients, the T×T chunk matrix, states. */
    private final class Work {
        final int rows;
        final float[] phiQ, phiK, dphi, a, g, gden, s2, z2, scratch, vsum, wPrep;

        Work(int rows) {
            this.rows = rows;
            phiQ = new float[rows * mf];
            phiK = new float[rows * mf];
            dphi = new float[rows * mf];
            scratch = new float[rows * mf];
            a = new float[rows * rows];
            g = new float[rows * d];
            gden = new float[rows];
            s2 = new float[mf * d];
            z2 = new float[mf];
            vsum = new float[d];
            wPrep = perHead ? new float[map.preparedLength(m, d)] : null;
        }
    }

    /** Scratch reused across calls, one per worker thread (sized for the largest block seen). */
    private final ThreadLocal<Work> work = new ThreadLocal<>();

    private Work work(int rows) {
        Work wk = work.get();
        if (wk == null || wk.rows != rows) {
            wk = new Work(rows);
            work.set(wk);
        }
        return wk;
    }

    /** The projection head bh computes with: for adaptive OPRF prepared at its own A (into wk), else st.w. */
    private float[] headProjection(State st, int bh, Work wk) {
        return perHead ? map.prepare(st.w, m, d, st.a[bh], wk.wPrep) : st.w;
    }

    private boolean masked(float[] mask, int b, int lk, int j) { return mask != null && mask[b * lk + j] == 0f; }

    private void zeroMaskedRows(float[] mask, int b, int lk, int j0, int t, float[] x, int off) {
        if (mask == null) return;
        for (int j = 0; j < t; j++)
            if (mask[b * lk + j0 + j] == 0f) Arrays.fill(x, off + j * mf, off + (j + 1) * mf, 0f);
    }

    /** The stabilizer of the keys of one head: the max of their pre-activations, all keys included. */
    private float keyMax(float[] k, int ko, int lk, float[] wl, Work wk) {
        float c = Float.NEGATIVE_INFINITY;
        for (int j0 = 0; j0 < lk; j0 += wk.rows) {
            int t = Math.min(wk.rows, lk - j0);
            map.project(kern, k, ko + j0 * d, t, d, wl, m, wk.phiK, 0);
            c = Math.max(c, map.maxPre(kern, wk.phiK, 0, t, d, m));
        }
        return c;
    }

    /** φ(K) rows [j0, j0+t) of one head into wk.phiK with stabilizer c (masked rows zero). */
    private void keyFeatures(float[] k, int ko, int j0, int t, float[] wl, float c, float[] mask, int b, int lk,
                             Work wk) {
        map.project(kern, k, ko + j0 * d, t, d, wl, m, wk.phiK, 0);
        map.activateKeys(kern, k, ko + j0 * d, t, d, m, wk.phiK, 0, c, true);
        zeroMaskedRows(mask, b, lk, j0, t, wk.phiK, 0);
    }

    /** φ(Q) rows [i0, i0+t) of one head into wk.phiQ. */
    private void queryFeatures(float[] q, int qo, int i0, int t, float[] wl, Work wk) {
        map.project(kern, q, qo + i0 * d, t, d, wl, m, wk.phiQ, 0);
        map.activateQueries(kern, q, qo + i0 * d, t, d, m, wk.phiQ, 0);
    }

    @Override
    public Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out, Saved reuse) {
        Attention.checkForward(this, dims, q, k, v, keyMask, out);
        if (dims.dim() != d)
            throw new IllegalArgumentException(name() + " was built for D=" + d + ", inputs have D=" + dims.dim());
        int bhN = dims.bh(), lq = dims.lq(), lk = dims.lk();
        State st = reuse instanceof State r && r.fits(this, dims) ? r : new State(this, dims);
        st.dims = dims; st.q = q; st.k = k; st.v = v; st.mask = keyMask; st.out = out; st.w = perHead ? w : wUse;
        float[] den = st.den, keyMax = st.keyMax, s = st.s, z = st.z;
        kern.parallelFor(bhN, bh -> {
            int qo = bh * lq * d, ko = bh * lk * d, b = bh / dims.heads();
            if (causal) {
                Work wk = work(Math.min(chunk, lq));
                float[] wl = st.w;
                float c = map.stabilized() ? keyMax(k, ko, lk, wl, wk) : 0f;
                keyMax[bh] = c;
                causalForward(lq, q, qo, k, ko, v, keyMask, b, wl, c, out, den, bh * lq, wk);
            } else {
                Work wk = work(Math.min(STREAM, Math.max(lq, lk)));
                if (perHead) st.a[bh] = FeatureMap.optimalA(FeatureMap.rho(q, qo, lq, k, ko, lk, d, keyMask, b * lk));
                float[] wl = headProjection(st, bh, wk);
                keyMax[bh] = bidirState(lk, k, ko, v, keyMask, b, wl, s, bh * mf * d, z, bh * mf, wk);
                for (int i0 = 0; i0 < lq; i0 += wk.rows) {
                    int t = Math.min(wk.rows, lq - i0);
                    queryFeatures(q, qo, i0, t, wl, wk);
                    kern.gemm(false, false, t, d, mf, 1f, wk.phiQ, 0, mf, s, bh * mf * d, d, 0f,
                            out, qo + i0 * d, d); // num = Φq S
                    for (int i = 0; i < t; i++)
                        den[bh * lq + i0 + i] = kern.dot(wk.phiQ, i * mf, z, bh * mf, mf); // den = Φq z
                }
            }
            for (int i = 0; i < lq; i++) {
                float dn = den[bh * lq + i];
                if (dn == 0f) Arrays.fill(out, qo + i * d, qo + (i + 1) * d, 0f);
                else kern.scale(out, qo + i * d, d, 1f / dn);
            }
        });
        return st;
    }

    /**
     * S = Φkᵀ V and z = Φkᵀ 1 of one head in one streamed pass over the keys; returns the key
     * stabilizer c. For stabilized maps φ(k) = ratio·exp(u − n − c) + ratio·eps with c the max
     * over all keys, which is only known at the end: the exponential part is accumulated against
     * the running max and rescaled by exp(c_old − c_new) ≤ 1 whenever the max grows, and the eps
     * part is added at the end as ratio·eps·(1 (Σ v)ᵀ, count). The result is the convention's S, z.
     */
    private float bidirState(int lk, float[] k, int ko, float[] v, float[] mask, int b, float[] wl,
                             float[] s, int sOff, float[] z, int zOff, Work wk) {
        boolean stab = map.stabilized();
        float c = Float.NEGATIVE_INFINITY;
        Arrays.fill(s, sOff, sOff + mf * d, 0f);   // the buffers may be recycled from an earlier forward
        Arrays.fill(z, zOff, zOff + mf, 0f);
        Arrays.fill(wk.vsum, 0f);
        int count = 0;
        for (int j0 = 0; j0 < lk; j0 += wk.rows) {
            int t = Math.min(wk.rows, lk - j0);
            map.project(kern, k, ko + j0 * d, t, d, wl, m, wk.phiK, 0);
            if (stab) {
                float cb = map.maxPre(kern, wk.phiK, 0, t, d, m);
                if (cb > c) {
                    if (c != Float.NEGATIVE_INFINITY) {
                        float rescale = (float) Math.exp(c - cb);
                        kern.scale(s, sOff, mf * d, rescale);
                        kern.scale(z, zOff, mf, rescale);
                    }
                    c = cb;
                }
                map.activateKeys(kern, k, ko + j0 * d, t, d, m, wk.phiK, 0, c, false);
            } else {
                map.activateKeys(kern, k, ko + j0 * d, t, d, m, wk.phiK, 0, 0f, true);
            }
            zeroMaskedRows(mask, b, lk, j0, t, wk.phiK, 0);
            kern.gemm(true, false, mf, d, t, 1f, wk.phiK, 0, mf, v, ko + j0 * d, d, 1f, s, sOff, d);   // S += Φkᵀ V
            for (int j = 0; j < t; j++) {
                kern.axpy(1f, wk.phiK, j * mf, z, zOff, mf);                                          // z += Φkᵀ 1
                if (stab && !masked(mask, b, lk, j0 + j)) {
                    kern.axpy(1f, v, ko + (j0 + j) * d, wk.vsum, 0, d);
                    count++;
                }
            }
        }
        if (stab && map.eps() != 0f) {
            float re = map.ratio(m) * map.eps();
            for (int f = 0; f < mf; f++) kern.axpy(re, wk.vsum, 0, s, sOff + f * d, d);
            for (int f = 0; f < mf; f++) z[zOff + f] += re * count;
        }
        return stab ? c : 0f;
    }

    private void causalForward(int l, float[] q, int qo, float[] k, int ko, float[] v, float[] mask, int b, float[] wl,
                               float c, float[] out, float[] den, int dOff, Work wk) {
        float[] s = wk.s2, z = wk.z2, a = wk.a;
        Arrays.fill(s, 0f);
        Arrays.fill(z, 0f);
        for (int c0 = 0; c0 < l; c0 += chunk) {
            int t = Math.min(chunk, l - c0);
            queryFeatures(q, qo, c0, t, wl, wk);
            keyFeatures(k, ko, c0, t, wl, c, mask, b, l, wk);
            kern.gemm(false, false, t, d, mf, 1f, wk.phiQ, 0, mf, s, 0, d, 0f, out, qo + c0 * d, d);
            for (int i = 0; i < t; i++) den[dOff + c0 + i] = kern.dot(wk.phiQ, i * mf, z, 0, mf);
            lowerProduct(t, wk.phiQ, 0, wk.phiK, 0, a);
            for (int i = 0; i < t; i++) den[dOff + c0 + i] += kern.sum(a, i * t, i + 1);
            kern.gemm(false, false, t, d, t, 1f, a, 0, t, v, ko + c0 * d, d, 1f, out, qo + c0 * d, d);
            kern.gemm(true, false, mf, d, t, 1f, wk.phiK, 0, mf, v, ko + c0 * d, d, 1f, s, 0, d);
            for (int j = 0; j < t; j++) kern.axpy(1f, wk.phiK, j * mf, z, 0, mf);
        }
    }

    /** a (t×t, ld t) = tril(X Yᵀ) for X, Y (t×Mf) rows at the given offsets: entries j > i are 0. */
    private void lowerProduct(int t, float[] x, int xo, float[] y, int yo, float[] a) {
        kern.gemm(false, true, t, t, mf, 1f, x, xo, mf, y, yo, mf, 0f, a, 0, t);
        for (int i = 0; i < t; i++) Arrays.fill(a, i * t + i + 1, (i + 1) * t, 0f);
    }

    /** G = dout / den and g = −(dout·out) / den for query rows [i0, i0+t) of one head (0 where den = 0). */
    private void upstream(State st, float[] dout, int qo, int dOff, int i0, int t, Work wk) {
        for (int i = 0; i < t; i++) {
            float dn = st.den[dOff + i0 + i];
            int r = qo + (i0 + i) * d;
            if (dn == 0f) { // the output was set to 0: no gradient flows
                Arrays.fill(wk.g, i * d, (i + 1) * d, 0f);
                wk.gden[i] = 0f;
                continue;
            }
            float inv = 1f / dn;
            for (int cc = 0; cc < d; cc++) wk.g[i * d + cc] = dout[r + cc] * inv;
            wk.gden[i] = -kern.dot(dout, r, st.out, r, d) * inv;
        }
    }

    @Override
    public void backward(Saved saved, float[] dout, float[] dq, float[] dk, float[] dv) {
        if (!(saved instanceof State st)) throw new IllegalArgumentException("saved state is not from " + name());
        Dims dims = st.dims;
        Attention.checkBackward(dims, dout, dq, dk, dv);
        int lq = dims.lq(), lk = dims.lk();
        kern.parallelFor(dims.bh(), bh -> {
            int qo = bh * lq * d, ko = bh * lk * d, b = bh / dims.heads();
            if (causal) causalBackward(lq, st, dout, qo, ko, b, bh, work(Math.min(chunk, lq)), dq, dk, dv);
            else bidirBackward(lq, lk, st, dout, qo, ko, b, bh, work(Math.min(STREAM, Math.max(lq, lk))), dq, dk, dv);
        });
    }

    private void bidirBackward(int lq, int lk, State st, float[] dout, int qo, int ko, int b, int bh, Work wk,
                               float[] dq, float[] dk, float[] dv) {
        int sOff = bh * mf * d, zOff = bh * mf;
        float[] r = wk.s2, rz = wk.z2, wb = headProjection(st, bh, wk);
        Arrays.fill(r, 0f);
        Arrays.fill(rz, 0f);
        for (int i0 = 0; i0 < lq; i0 += wk.rows) {
            int t = Math.min(wk.rows, lq - i0);
            queryFeatures(st.q, qo, i0, t, wb, wk);
            upstream(st, dout, qo, bh * lq, i0, t, wk);
            kern.gemm(false, true, t, mf, d, 1f, wk.g, 0, d, st.s, sOff, d, 0f, wk.dphi, 0, mf);     // dΦq = G Sᵀ
            for (int i = 0; i < t; i++) kern.axpy(wk.gden[i], st.z, zOff, wk.dphi, i * mf, mf);     //     + g zᵀ
            kern.gemm(true, false, mf, d, t, 1f, wk.phiQ, 0, mf, wk.g, 0, d, 1f, r, 0, d);           // R += Φqᵀ G
            for (int i = 0; i < t; i++) kern.axpy(wk.gden[i], wk.phiQ, i * mf, rz, 0, mf);           // r += Φqᵀ g
            map.backward(kern, st.q, qo + i0 * d, t, d, wb, m, wk.phiQ, 0, wk.dphi, 0, dq, qo + i0 * d, wk.scratch);
        }
        for (int j0 = 0; j0 < lk; j0 += wk.rows) {
            int t = Math.min(wk.rows, lk - j0);
            keyFeatures(st.k, ko, j0, t, wb, st.keyMax[bh], st.mask, b, lk, wk);
            kern.gemm(false, true, t, mf, d, 1f, st.v, ko + j0 * d, d, r, 0, d, 0f, wk.dphi, 0, mf); // dΦk = V Rᵀ
            for (int j = 0; j < t; j++) kern.axpy(1f, rz, 0, wk.dphi, j * mf, mf);                 //     + 1 rᵀ
            zeroMaskedRows(st.mask, b, lk, j0, t, wk.dphi, 0);
            kern.gemm(false, false, t, d, mf, 1f, wk.phiK, 0, mf, r, 0, d, 0f, dv, ko + j0 * d, d);  // dV = Φk R
            map.backward(kern, st.k, ko + j0 * d, t, d, wb, m, wk.phiK, 0, wk.dphi, 0, dk, ko + j0 * d, wk.scratch);
        }
    }

    private void causalBackward(int l, State st, float[] dout, int qo, int ko, int b, int bh, Work wk,
                                float[] dq, float[] dk, float[] dv) {
        float[] s = wk.s2, z = wk.z2, a = wk.a, v = st.v;
        float c = st.keyMax[bh];
        Arrays.fill(s, 0f);
        Arrays.fill(z, 0f);
        // forward sweep: dΦq[c] = G[c] Sᵀ + g[c] zᵀ + tril(G[c] V[c]ᵀ + g[c] 1ᵀ) Φk[c], then dq[c]
        for (int c0 = 0; c0 < l; c0 += chunk) {
            int t = Math.min(chunk, l - c0);
            queryFeatures(st.q, qo, c0, t, st.w, wk);
            keyFeatures(st.k, ko, c0, t, st.w, c, st.mask, b, l, wk);
            upstream(st, dout, qo, bh * l, c0, t, wk);
            kern.gemm(false, true, t, mf, d, 1f, wk.g, 0, d, s, 0, d, 0f, wk.dphi, 0, mf);
            for (int i = 0; i < t; i++) kern.axpy(wk.gden[i], z, 0, wk.dphi, i * mf, mf);
            gradScores(t, wk, v, ko + c0 * d, a);
            kern.gemm(false, false, t, mf, t, 1f, a, 0, t, wk.phiK, 0, mf, 1f, wk.dphi, 0, mf);
            kern.gemm(true, false, mf, d, t, 1f, wk.phiK, 0, mf, v, ko + c0 * d, d, 1f, s, 0, d);
            for (int j = 0; j < t; j++) kern.axpy(1f, wk.phiK, j * mf, z, 0, mf);
            map.backward(kern, st.q, qo + c0 * d, t, d, st.w, m, wk.phiQ, 0, wk.dphi, 0, dq, qo + c0 * d, wk.scratch);
        }
        // reverse sweep with suffix states R (Mf×D), r (Mf):
        //   dΦk[c] = V[c] Rᵀ + 1 rᵀ + tril(G[c] V[c]ᵀ + g 1ᵀ)ᵀ Φq[c];  dV[c] = Φk[c] R + tril(Φq[c] Φk[c]ᵀ)ᵀ G[c]
        float[] r = s, rz = z;
        Arrays.fill(r, 0f);
        Arrays.fill(rz, 0f);
        for (int c0 = (l - 1) / chunk * chunk; c0 >= 0; c0 -= chunk) {
            int t = Math.min(chunk, l - c0);
            queryFeatures(st.q, qo, c0, t, st.w, wk);
            keyFeatures(st.k, ko, c0, t, st.w, c, st.mask, b, l, wk);
            upstream(st, dout, qo, bh * l, c0, t, wk);
            kern.gemm(false, true, t, mf, d, 1f, v, ko + c0 * d, d, r, 0, d, 0f, wk.dphi, 0, mf);
            for (int j = 0; j < t; j++) kern.axpy(1f, rz, 0, wk.dphi, j * mf, mf);
            gradScores(t, wk, v, ko + c0 * d, a);
            kern.gemm(true, false, t, mf, t, 1f, a, 0, t, wk.phiQ, 0, mf, 1f, wk.dphi, 0, mf);
            kern.gemm(false, false, t, d, mf, 1f, wk.phiK, 0, mf, r, 0, d, 0f, dv, ko + c0 * d, d);
            lowerProduct(t, wk.phiQ, 0, wk.phiK, 0, a);
            kern.gemm(true, false, t, d, t, 1f, a, 0, t, wk.g, 0, d, 1f, dv, ko + c0 * d, d);
            kern.gemm(true, false, mf, d, t, 1f, wk.phiQ, 0, mf, wk.g, 0, d, 1f, r, 0, d);
            for (int i = 0; i < t; i++) kern.axpy(wk.gden[i], wk.phiQ, i * mf, rz, 0, mf);
            zeroMaskedRows(st.mask, b, l, c0, t, wk.dphi, 0);
            map.backward(kern, st.k, ko + c0 * d, t, d, st.w, m, wk.phiK, 0, wk.dphi, 0, dk, ko + c0 * d, wk.scratch);
        }
    }

    /**
     * a (t×t) = tril(G V[c]ᵀ + g 1ᵀ) from the chunk's upstream G, g in wk: the gradient w.r.t. the masked scores
     * φq_i·φk_j.
     */
    private void gradScores(int t, Work wk, float[] v, int vOff, float[] a) {
        kern.gemm(false, true, t, t, d, 1f, wk.g, 0, d, v, vOff, d, 0f, a, 0, t);
        for (int i = 0; i < t; i++) {
            float gi = wk.gden[i];
            for (int j = 0; j <= i; j++) a[i * t + j] += gi;
            Arrays.fill(a, i * t + i + 1, (i + 1) * t, 0f);
        }
    }
}
