package dev.performer.attention;

import dev.performer.kernel.Kernels;
import java.util.Arrays;

/**
 * Causal FAVOR+ one token at a time, with O(M·D) state per head: every step costs the same
 * however long the prefix. Used for autoregressive generation.
 *
 * <p>State per head: S = Σ_{j≤t} φ(k_j) v_jᵀ (Mf×D) and z = Σ_{j≤t} φ(k_j) (Mf). For the
 * stabilized maps (SM+, SMhyp+) the key stabilizer cannot be the max of u over all keys, which
 * lies in the future; it is the running max c_t of u over the keys seen so far. Writing
 * φ(k_j) = ratio·exp(e_j − c) + ratio·eps, the state keeps the exponential part E = Σ ratio·exp(e_j − c_t) v_jᵀ
 * (rescaled by exp(c_t − c_{t+1}) when the max grows) apart from the eps part ratio·eps·1·(Σ v_j)ᵀ,
 * so that no rescaling ever touches eps. The outputs equal the parallel causal form whose key
 * stabilizer is c_t; with eps = 0 the stabilizer cancels and they equal the parallel form exactly
 * (up to rounding), whatever the stabilizer. OPRF uses {@link FeatureMap#fixedA}, as causal
 * {@link FavorAttention} does.
 */
public final class RecurrentFavor {

    private final Kernels kern;
    private final FeatureMap map;
    private final float[] w;      // (M, D) prepared, shared ({@link Projection})
    private final int m, heads, d, mf;
    // state, per head h at offset h·(Mf·D) / h·Mf / h·D:
    private final float[] s;      // (H, Mf, D)  exponential part (stabilized maps) or the whole Σ φ(k) vᵀ
    private final float[] z;      // (H, Mf)     likewise for Σ φ(k)
    private final float[] vsum;   // (H, D)      Σ v_j, for the eps part of stabilized maps
    private final float[] cmax;   // (H)         running key stabilizer
    private long count;           // tokens seen
    // scratch
    private final float[] wT;     // (D, M) the projection transposed, shared
    private final float[] phiQ, phiK; // (H, Mf) per step

    /**
     * A feature map with its projection prepared for stepping (M, D) and transposed (D, M): read-only,
     * so the states of many sequences share one (one copy in cache instead of one per sequence).
     */
    public static final class Projection {
        private final FeatureMap map;
        private final float[] w, wT;   // (M, D), (D, M); null for maps without a projection
        private final int m, d;

        /** Prepares w (M, D), which is not modified (null for maps without a projection). */
        public Projection(FeatureMap map, float[] w, int m, int d) {
            if (map.projected() && (w == null || w.length != m * d))
                throw new IllegalArgumentException("projection must be (M=" + m + ", D=" + d + ")");
            this.map = map;
            this.m = map.projected() ? m : 0;
            this.d = d;
            this.w = w == null ? null : map.prepare(w.clone(), m, d, map.fixedA(d), null); // OPRF: its fixed A
            this.wT = w == null ? null : FeatureMap.transposed(this.w, m, d);
        }

        /** The map and projection of a (causal) FAVOR+ attention. */
        public static Projection of(FavorAttention a) {
            return new Projection(a.featureMap(), a.projection(), a.projections(), a.dim());
        }
    }

    public RecurrentFavor(Kernels kern, FeatureMap map, float[] w, int m, int heads, int d) {
        this(kern, new Projection(map, w, m, d), heads);
    }

    /** A fresh state of H heads over a shared prepared projection. */
    public RecurrentFavor(Kernels kern, Projection p, int heads) {
        if (heads < 1) throw new IllegalArgumentException("a recurrent state needs at least 1 head, got " + heads);
        this.kern = kern;
        this.map = p.map;
        this.m = p.m;
        this.heads = heads;
        this.d = p.d;
        this.mf = map.features(p.m, d);
        this.w = p.w;
        this.wT = p.wT;
        this.s = new float[heads * mf * d];
        this.z = new float[heads * mf];
        this.vsum = new float[heads * d];
        this.cmax = new float[heads];
        this.phiQ = new float[heads * mf];
        this.phiK = new float[heads * mf];
        reset();
    }

    /** A recurrent form of a (causal) FAVOR+ attention, with the same map and projection. */
    public static RecurrentFavor of(Kernels kern, FavorAttention a, int heads) {
        return new RecurrentFavor(kern, Projection.of(a), heads);
    }

    /** Forgets the prefix. */
    public void reset() {
        Arrays.fill(s, 0f);
        Arrays.fill(z, 0f);
        Arrays.fill(vsum, 0f);
        Arrays.fill(cmax, Float.NEGATIVE_INFINITY);
        count = 0;
    }

    /** Floats of state kept per sequence: H·(Mf·D + Mf + D + 1). */
    public long stateFloats() { return (long) heads * (mf * d + mf + d + 1); }

    public long tokens() { return count; }

    /**
     * Consumes one token: q, k, v are (H, D) at the given offsets; writes out (H, D). The new key
     * is visible to its own query, as in the parallel causal form. The projections of the H heads'
     * queries and keys are two H-row products with the transposed projection; each head's state is
     * then updated and read in one pass ({@link Kernels#rankOneUpdateThenRead}).
     */
    public void step(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out, int outOff) {
        map.projectTransposed(kern, k, kOff, heads, d, w, wT, m, phiK, 0);   // (H, Mf) key pre-activations
        map.projectTransposed(kern, q, qOff, heads, d, w, wT, m, phiQ, 0);   // (H, Mf) query pre-activations
        advance(q, qOff, k, kOff, v, vOff, out, outOff, phiQ, 0, phiK, 0);
    }

    /**
     * The step after the projections: pq and pk hold the (H, Mf) query and key pre-activations at
     * pqOff and pkOff (overwritten with the features).
     */
    private void advance(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out, int outOff,
                         float[] pq, int pqOff, float[] pk, int pkOff) {
        count++;
        map.activateQueries(kern, q, qOff, heads, d, m, pq, pqOff);
        if (!map.stabilized()) map.activateKeys(kern, k, kOff, heads, d, m, pk, pkOff, 0f, true);
        float ratio = map.stabilized() ? map.ratio(m) : 0f, sc = (float) Math.pow(d, -0.25);
        for (int h = 0; h < heads; h++) {
            int so = h * mf * d, zo = h * mf, xo = h * d, fq = pqOff + h * mf, fk = pkOff + h * mf;
            if (map.stabilized()) {
                // e = u − n with n = |k~|²/2; the running max of u is the key stabilizer
                float n = 0.5f * sc * sc * kern.dot(k, kOff + xo, k, kOff + xo, d);
                for (int j = 0; j < mf; j++) pk[fk + j] -= n;
                float cNew = Math.max(cmax[h], kern.max(pk, fk, mf) + n);
                if (cNew > cmax[h] && cmax[h] != Float.NEGATIVE_INFINITY) {
                    float rescale = (float) Math.exp(cmax[h] - cNew);
                    kern.scale(s, so, mf * d, rescale);
                    kern.scale(z, zo, mf, rescale);
                }
                cmax[h] = cNew;
                kern.expAffine(pk, fk, mf, -cNew, ratio, 0f);                   // exponential part of φ(k)
                kern.rankOneUpdateThenRead(s, so, mf, d, pk, fk, v, vOff + xo, pq, fq, out, outOff + xo);
                kern.axpy(1f, pk, fk, z, zo, mf);
                kern.axpy(1f, v, vOff + xo, vsum, xo, d);
                float epsPart = ratio * map.eps() * kern.sum(pq, fq, mf);       // (φq·1)·ratio·eps
                kern.axpy(epsPart, vsum, xo, out, outOff + xo, d);
                finish(out, outOff + xo, kern.dot(pq, fq, z, zo, mf) + epsPart * count);
            } else {
                kern.rankOneUpdateThenRead(s, so, mf, d, pk, fk, v, vOff + xo, pq, fq, out, outOff + xo);
                kern.axpy(1f, pk, fk, z, zo, mf);
                finish(out, outOff + xo, kern.dot(pq, fq, z, zo, mf));
            }
        }
    }

    /** Rows of one projection product of a {@link Batch}, at most (VectorKernels' unpacked few-row path). */
    public static final int BATCH_ROWS = 16;

    /**
     * Scratch for stepping the states of several sequences (one projection, H heads each) together:
     * their query and key projections as one product each per chunk of up to {@link #BATCH_ROWS}
     * rows (sequences × H), instead of two H-row products per sequence. A few-row product sums each
     * row as a one-row one, so the results are those of {@link #step}, bit for bit. One per thread.
     */
    public static final class Batch {
        private final int heads, d, mf, perChunk;
        private final float[] xq, xk, pq, pk;   // (R, D) gathered q and k; (R, Mf) their pre-activations

        /** Scratch for states of H heads over p. */
        public Batch(Projection p, int heads) {
            if (heads < 1) throw new IllegalArgumentException("a batch needs at least 1 head, got " + heads);
            this.heads = heads;
            this.d = p.d;
            this.mf = p.map.features(p.m, p.d);
            this.perChunk = Math.max(1, BATCH_ROWS / heads);
            int rows = perChunk * heads;
            this.xq = new float[rows * d];
            this.xk = new float[rows * d];
            this.pq = new float[rows * mf];
            this.pk = new float[rows * mf];
        }

        /**
         * Steps s[0..n) by one token each: sequence i's q, k, v (H, D) at qOff, kOff, vOff + i·stride of
         * x, its output (H, D) at outOff + i·outStride of out; as n calls of {@link #step}.
         */
        public void step(RecurrentFavor[] s, int n, float[] x, int qOff, int kOff, int vOff, int stride, float[] out,
                         int outOff, int outStride) {
            int hd = heads * d;
            for (int i0 = 0; i0 < n; i0 += perChunk) {
                int cs = Math.min(perChunk, n - i0), rows = cs * heads;
                for (int j = 0; j < cs; j++) {
                    RecurrentFavor r = s[i0 + j];
                    if (r.heads != heads || r.d != d || r.mf != mf || r.wT != s[i0].wT)
                        throw new IllegalArgumentException("state " + (i0 + j) + " has another shape or projection "
                                + "than the batch");
                    System.arraycopy(x, qOff + (i0 + j) * stride, xq, j * hd, hd);
                    System.arraycopy(x, kOff + (i0 + j) * stride, xk, j * hd, hd);
                }
                RecurrentFavor r0 = s[i0];
                r0.map.projectTransposed(r0.kern, xk, 0, rows, d, r0.w, r0.wT, r0.m, pk, 0);
                r0.map.projectTransposed(r0.kern, xq, 0, rows, d, r0.w, r0.wT, r0.m, pq, 0);
                for (int j = 0; j < cs; j++) {
                    int i = i0 + j;
                    s[i].advance(x, qOff + i * stride, x, kOff + i * stride, x, vOff + i * stride, out,
                            outOff + i * outStride, pq, j * heads * mf, pk, j * heads * mf);
                }
            }
        }
    }

    private void finish(float[] out, int off, float den) {
        if (den == 0f) Arrays.fill(out, off, off + d, 0f);
        else kern.scale(out, off, d, 1f / den);
    }
}
