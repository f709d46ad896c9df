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
    private final float[] w;
    private final int m, heads, d, mf;
    // state, per head h at offset h·(Mf·D) / h·Mf / h·D:
    private final float[] s;      // (H, Mf, D)  exponential part (stabilized maps) or the whole Σ φ(k) vᵀ
    private final float[] z;      // (H, Mf)     likewise for Σ φ(k)
    private final float[] vsum;   // (H, D)      Σ v_j, for the eps part of stabilized maps
    private final float[] cmax;   // (H)         running key stabilizer
    private long count;           // tokens seen
    // scratch
    private final float[] phiQ, e;

    public RecurrentFavor(Kernels kern, FeatureMap map, float[] w, int m, int heads, int d) {
        this.kern = kern;
        this.map = map;
        this.m = map.projected() ? m : 0;
        this.heads = heads;
        this.d = d;
        this.mf = map.features(m, d);
        if (map.projected() && (w == null || w.length != m * d))
            throw new IllegalArgumentException("projection must be (M=" + m + ", D=" + d + ")");
        this.w = w == null ? null : map.prepare(w.clone(), m, d, map.fixedA(d), null); // OPRF: its fixed A
        this.s = new float[heads * mf * d];
        this.z = new float[heads * mf];
        this.vsum = new float[heads * d];
        this.cmax = new float[heads];
        this.phiQ = new float[mf];
        this.e = new float[mf];
        reset();
    }

    /** A recurrent form of a (causal) FAVOR+ attention, with the same map and projection. */
    public static RecurrentFavor of(Kernels kern, FavorAttention a, int heads) {
        return new RecurrentFavor(kern, a.featureMap(), a.projection(), a.projections(), heads, a.dim());
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
     * is visible to its own query, as in the parallel causal form.
     */
    public void step(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, float[] out, int outOff) {
        count++;
        for (int h = 0; h < heads; h++) {
            int so = h * mf * d, zo = h * mf, xo = h * d;
            if (map.stabilized()) {
                float ratio = map.ratio(m);
                float n = map.exponents(kern, k, kOff + xo, d, w, m, e, 0);
                float cNew = Math.max(cmax[h], kern.max(e, 0, mf) + n); // running max of u, as the convention's key max
                if (cNew > cmax[h] && cmax[h] != Float.NEGATIVE_INFINITY) {
                    float rescale = (float) Math.exp(cmax[h] - cNew);
                    kern.scale(s, so, mf * d, rescale);
                    kern.scale(z, zo, mf, rescale);
                }
                cmax[h] = cNew;
                kern.expAffine(e, 0, mf, -cNew, ratio, 0f);                  // exponential part of φ(k)
                for (int j = 0; j < mf; j++) kern.axpy(e[j], v, vOff + xo, s, so + j * d, d);
                kern.axpy(1f, e, 0, z, zo, mf);
                kern.axpy(1f, v, vOff + xo, vsum, xo, d);
                map.forward(kern, q, qOff + xo, 1, d, w, m, true, phiQ, 0);
                float epsPart = ratio * map.eps() * kern.sum(phiQ, 0, mf);    // (φq·1)·ratio·eps
                kern.gemm(false, false, 1, d, mf, 1f, phiQ, 0, mf, s, so, d, 0f, out, outOff + xo, d);
                kern.axpy(epsPart, vsum, xo, out, outOff + xo, d);
                float den = kern.dot(phiQ, 0, z, zo, mf) + epsPart * count;
                finish(out, outOff + xo, den);
            } else {
                map.forward(kern, k, kOff + xo, 1, d, w, m, false, e, 0);
                for (int j = 0; j < mf; j++) kern.axpy(e[j], v, vOff + xo, s, so + j * d, d);
                kern.axpy(1f, e, 0, z, zo, mf);
                map.forward(kern, q, qOff + xo, 1, d, w, m, true, phiQ, 0);
                kern.gemm(false, false, 1, d, mf, 1f, phiQ, 0, mf, s, so, d, 0f, out, outOff + xo, d);
                finish(out, outOff + xo, kern.dot(phiQ, 0, z, zo, mf));
            }
        }
    }

    private void finish(float[] out, int off, float den) {
        if (den == 0f) Arrays.fill(out, off, off + d, 0f);
        else kern.scale(out, off, d, 1f / den);
    }
}
