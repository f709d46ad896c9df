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
 * rebuilt by subtraction, and memory per head is O(L·(Mf + D) + T² + Mf·D): no O(L·M·D) tensor.
 * Then dq, dk come from {@link FeatureMap#backward}.
 */
public final class FavorAttention implements Attention {

    /** Rows per causal chunk: a trade between GEMM efficiency and the 2·L·T·(M+D) intra-chunk flops. */
    public static final int DEFAULT_CHUNK = 64;

    private final Kernels kern;
    private final FeatureMap map;
    private final boolean causal;
    private final int m, d, mf, chunk;
    private float[] w; // (M×D) projection, null without projection

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

    /** φ(x) for all batch-heads of x (B,H,L,D): (B,H,L,Mf). For inspection and parity tests. */
    public float[] features(Dims dims, float[] x, boolean query) {
        int l = query ? dims.lq() : dims.lk();
        dims.checkLen(query ? "q" : "k", x, dims.bh() * l * d, "(B,H,L,D)");
        float[] phi = new float[dims.bh() * l * mf];
        float[] wl = w;
        kern.parallelFor(dims.bh(), bh -> map.forward(kern, x, bh * l * d, l, d, wl, m, query, phi, bh * l * mf));
        return phi;
    }

    /** What forward keeps for backward. Sizes: phiQ (B,H,Lq,Mf), phiK (B,H,Lk,Mf), den (B,H,Lq), s/z per head. */
    private static final class State implements Saved {
        final Dims dims;
        final float[] q, k, v, mask, out, w;
        final float[] phiQ, phiK, den;
        final float[] s, z; // bidirectional only: (B,H,Mf,D) and (B,H,Mf)

        State(Dims dims, float[] q, float[] k, float[] v, float[] mask, float[] out, float[] w,
              float[] phiQ, float[] phiK, float[] den, float[] s, float[] z) {
            this.dims = dims; this.q = q; this.k = k; this.v = v; this.mask = mask; this.out = out; this.w = w;
            this.phiQ = phiQ; this.phiK = phiK; this.den = den; this.s = s; this.z = z;
        }

        @Override public Dims dims() { return dims; }
    }

    @Override
    public Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out) {
        Attention.checkForward(this, dims, q, k, v, keyMask, out);
        if (dims.dim() != d) throw new IllegalArgumentException(name() + " was built for D=" + d + ", inputs have D=" + dims.dim());
        int bhN = dims.bh(), lq = dims.lq(), lk = dims.lk();
        float[] phiQ = new float[bhN * lq * mf], phiK = new float[bhN * lk * mf], den = new float[bhN * lq];
        float[] s = causal ? null : new float[bhN * mf * d], z = causal ? null : new float[bhN * mf];
        float[] wl = w;
        kern.parallelFor(bhN, bh -> {
            int qo = bh * lq * d, ko = bh * lk * d, pq = bh * lq * mf, pk = bh * lk * mf;
            map.forward(kern, q, qo, lq, d, wl, m, true, phiQ, pq);
            map.forward(kern, k, ko, lk, d, wl, m, false, phiK, pk);
            if (keyMask != null) {
                int b = bh / dims.heads();
                for (int j = 0; j < lk; j++)
                    if (keyMask[b * lk + j] == 0f) Arrays.fill(phiK, pk + j * mf, pk + (j + 1) * mf, 0f);
            }
            if (causal) causalForward(lq, phiQ, pq, phiK, pk, v, ko, out, qo, den, bh * lq);
            else bidirForward(lq, lk, phiQ, pq, phiK, pk, v, ko, out, qo, den, bh * lq, s, bh * mf * d, z, bh * mf);
            for (int i = 0; i < lq; i++) {
                float dn = den[bh * lq + i];
                if (dn == 0f) Arrays.fill(out, qo + i * d, qo + (i + 1) * d, 0f);
                else kern.scale(out, qo + i * d, d, 1f / dn);
            }
        });
        return new State(dims, q, k, v, keyMask, out, wl, phiQ, phiK, den, s, z);
    }

    private void bidirForward(int lq, int lk, float[] phiQ, int pq, float[] phiK, int pk, float[] v, int ko,
                              float[] out, int qo, float[] den, int dOff, float[] s, int sOff, float[] z, int zOff) {
        kern.gemm(true, false, mf, d, lk, 1f, phiK, pk, mf, v, ko, d, 0f, s, sOff, d);      // S = Φkᵀ V
        for (int j = 0; j < lk; j++) kern.axpy(1f, phiK, pk + j * mf, z, zOff, mf);         // z = Φkᵀ 1
        kern.gemm(false, false, lq, d, mf, 1f, phiQ, pq, mf, s, sOff, d, 0f, out, qo, d);   // num = Φq S
        for (int i = 0; i < lq; i++) den[dOff + i] = kern.dot(phiQ, pq + i * mf, z, zOff, mf);
    }

    private void causalForward(int l, float[] phiQ, int pq, float[] phiK, int pk, float[] v, int ko,
                               float[] out, int qo, float[] den, int dOff) {
        float[] s = new float[mf * d], z = new float[mf], a = new float[chunk * chunk];
        for (int c0 = 0; c0 < l; c0 += chunk) {
            int t = Math.min(chunk, l - c0);
            kern.gemm(false, false, t, d, mf, 1f, phiQ, pq + c0 * mf, mf, s, 0, d, 0f, out, qo + c0 * d, d);
            for (int i = 0; i < t; i++) den[dOff + c0 + i] = kern.dot(phiQ, pq + (c0 + i) * mf, z, 0, mf);
            lowerProduct(t, phiQ, pq + c0 * mf, phiK, pk + c0 * mf, a);
            for (int i = 0; i < t; i++) den[dOff + c0 + i] += kern.sum(a, i * t, i + 1);
            kern.gemm(false, false, t, d, t, 1f, a, 0, t, v, ko + c0 * d, d, 1f, out, qo + c0 * d, d);
            kern.gemm(true, false, mf, d, t, 1f, phiK, pk + c0 * mf, mf, v, ko + c0 * d, d, 1f, s, 0, d);
            for (int j = 0; j < t; j++) kern.axpy(1f, phiK, pk + (c0 + j) * mf, z, 0, mf);
        }
    }

    /** a (t×t, ld t) = tril(X Yᵀ) for X, Y (t×Mf) rows at the given offsets: entries j > i are 0. */
    private void lowerProduct(int t, float[] x, int xo, float[] y, int yo, float[] a) {
        kern.gemm(false, true, t, t, mf, 1f, x, xo, mf, y, yo, mf, 0f, a, 0, t);
        for (int i = 0; i < t; i++) Arrays.fill(a, i * t + i + 1, (i + 1) * t, 0f);
    }

    @Override
    public void backward(Saved saved, float[] dout, float[] dq, float[] dk, float[] dv) {
        if (!(saved instanceof State st)) throw new IllegalArgumentException("saved state is not from " + name());
        Dims dims = st.dims;
        Attention.checkBackward(dims, dout, dq, dk, dv);
        int lq = dims.lq(), lk = dims.lk();
        kern.parallelFor(dims.bh(), bh -> {
            int qo = bh * lq * d, ko = bh * lk * d, pq = bh * lq * mf, pk = bh * lk * mf, dOff = bh * lq;
            float[] g = new float[lq * d], gden = new float[lq];
            for (int i = 0; i < lq; i++) {
                float dn = st.den[dOff + i];
                if (dn == 0f) continue; // output was set to 0: no gradient flows
                float inv = 1f / dn;
                for (int c = 0; c < d; c++) g[i * d + c] = dout[qo + i * d + c] * inv;
                gden[i] = -kern.dot(dout, qo + i * d, st.out, qo + i * d, d) * inv;
            }
            float[] dphiQ = new float[lq * mf], dphiK = new float[lk * mf];
            if (causal) causalBackward(lq, st, pq, pk, ko, g, gden, dphiQ, dphiK, dv);
            else bidirBackward(lq, lk, st, pq, pk, ko, bh, g, gden, dphiQ, dphiK, dv);
            if (st.mask != null) {
                int b = bh / dims.heads();
                for (int j = 0; j < lk; j++)
                    if (st.mask[b * lk + j] == 0f) Arrays.fill(dphiK, j * mf, (j + 1) * mf, 0f);
            }
            float[] scratch = new float[Math.max(lq, lk) * mf];
            map.backward(kern, st.q, qo, lq, d, st.w, m, st.phiQ, pq, dphiQ, 0, dq, qo, scratch);
            map.backward(kern, st.k, ko, lk, d, st.w, m, st.phiK, pk, dphiK, 0, dk, ko, scratch);
        });
    }

    private void bidirBackward(int lq, int lk, State st, int pq, int pk, int ko, int bh,
                               float[] g, float[] gden, float[] dphiQ, float[] dphiK, float[] dv) {
        int sOff = bh * mf * d, zOff = bh * mf;
        kern.gemm(false, true, lq, mf, d, 1f, g, 0, d, st.s, sOff, d, 0f, dphiQ, 0, mf);      // dΦq = G Sᵀ
        for (int i = 0; i < lq; i++) kern.axpy(gden[i], st.z, zOff, dphiQ, i * mf, mf);       //     + g zᵀ
        float[] ds = new float[mf * d], dz = new float[mf];
        kern.gemm(true, false, mf, d, lq, 1f, st.phiQ, pq, mf, g, 0, d, 0f, ds, 0, d);         // R = Φqᵀ G
        for (int i = 0; i < lq; i++) kern.axpy(gden[i], st.phiQ, pq + i * mf, dz, 0, mf);     // r = Φqᵀ g
        kern.gemm(false, true, lk, mf, d, 1f, st.v, ko, d, ds, 0, d, 0f, dphiK, 0, mf);        // dΦk = V Rᵀ
        for (int j = 0; j < lk; j++) kern.axpy(1f, dz, 0, dphiK, j * mf, mf);                  //     + 1 rᵀ
        kern.gemm(false, false, lk, d, mf, 1f, st.phiK, pk, mf, ds, 0, d, 0f, dv, ko, d);      // dV = Φk R
    }

    private void causalBackward(int l, State st, int pq, int pk, int ko,
                                float[] g, float[] gden, float[] dphiQ, float[] dphiK, float[] dv) {
        float[] s = new float[mf * d], z = new float[mf], a = new float[chunk * chunk];
        // forward sweep: dΦq[c] = G[c] Sᵀ + g[c] zᵀ + tril(G[c] V[c]ᵀ + g[c] 1ᵀ) Φk[c]
        for (int c0 = 0; c0 < l; c0 += chunk) {
            int t = Math.min(chunk, l - c0);
            kern.gemm(false, true, t, mf, d, 1f, g, c0 * d, d, s, 0, d, 0f, dphiQ, c0 * mf, mf);
            for (int i = 0; i < t; i++) kern.axpy(gden[c0 + i], z, 0, dphiQ, (c0 + i) * mf, mf);
            gradScores(t, g, c0, gden, st.v, ko, a);
            kern.gemm(false, false, t, mf, t, 1f, a, 0, t, st.phiK, pk + c0 * mf, mf, 1f, dphiQ, c0 * mf, mf);
            kern.gemm(true, false, mf, d, t, 1f, st.phiK, pk + c0 * mf, mf, st.v, ko + c0 * d, d, 1f, s, 0, d);
            for (int j = 0; j < t; j++) kern.axpy(1f, st.phiK, pk + (c0 + j) * mf, z, 0, mf);
        }
        // reverse sweep with suffix states R (Mf×D), r (Mf):
        //   dΦk[c] = V[c] Rᵀ + 1 rᵀ + tril(G[c] V[c]ᵀ + g 1ᵀ)ᵀ Φq[c];  dV[c] = Φk[c] R + tril(Φq[c] Φk[c]ᵀ)ᵀ G[c]
        float[] r = s, rz = z;
        Arrays.fill(r, 0f);
        Arrays.fill(rz, 0f);
        for (int c0 = (l - 1) / chunk * chunk; c0 >= 0; c0 -= chunk) {
            int t = Math.min(chunk, l - c0);
            kern.gemm(false, true, t, mf, d, 1f, st.v, ko + c0 * d, d, r, 0, d, 0f, dphiK, c0 * mf, mf);
            for (int j = 0; j < t; j++) kern.axpy(1f, rz, 0, dphiK, (c0 + j) * mf, mf);
            gradScores(t, g, c0, gden, st.v, ko, a);
            kern.gemm(true, false, t, mf, t, 1f, a, 0, t, st.phiQ, pq + c0 * mf, mf, 1f, dphiK, c0 * mf, mf);
            kern.gemm(false, false, t, d, mf, 1f, st.phiK, pk + c0 * mf, mf, r, 0, d, 0f, dv, ko + c0 * d, d);
            lowerProduct(t, st.phiQ, pq + c0 * mf, st.phiK, pk + c0 * mf, a);
            kern.gemm(true, false, t, d, t, 1f, a, 0, t, g, c0 * d, d, 1f, dv, ko + c0 * d, d);
            kern.gemm(true, false, mf, d, t, 1f, st.phiQ, pq + c0 * mf, mf, g, c0 * d, d, 1f, r, 0, d);
            for (int i = 0; i < t; i++) kern.axpy(gden[c0 + i], st.phiQ, pq + (c0 + i) * mf, rz, 0, mf);
        }
    }

    /** a (t×t) = tril(G[c] V[c]ᵀ + g[c] 1ᵀ): the gradient w.r.t. the masked scores φq_i·φk_j of a chunk. */
    private void gradScores(int t, float[] g, int c0, float[] gden, float[] v, int ko, float[] a) {
        kern.gemm(false, true, t, t, d, 1f, g, c0 * d, d, v, ko + c0 * d, d, 0f, a, 0, t);
        for (int i = 0; i < t; i++) {
            float gi = gden[c0 + i];
            for (int j = 0; j <= i; j++) a[i * t + j] += gi;
            Arrays.fill(a, i * t + i + 1, (i + 1) * t, 0f);
        }
    }
}
