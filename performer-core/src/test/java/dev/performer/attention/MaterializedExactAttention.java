package dev.performer.attention;

import dev.performer.kernel.Kernels;
import java.util.Arrays;

/**
 * The materialising form of exact softmax attention, kept as a test reference for the tiled
 * {@link ExactAttention} (the library's): out = softmax(q kᵀ/√D + mask) v, with an
 * optional causal mask (j ≤ i) and key-padding mask (score −∞). Forward keeps the attention
 * matrix P (B,H,Lq,Lk), one array per head, for backward:
 * <pre>
 *   dP = dout vᵀ,  dS = P ⊙ (dP − rowsum(P ⊙ dP)),  dq = dS k/√D,  dk = dSᵀ q/√D,  dv = Pᵀ dout
 * </pre>
 */
public final class MaterializedExactAttention implements Attention {

    private final Kernels kern;
    private final boolean causal;

    public MaterializedExactAttention(Kernels kern, boolean causal) {
        this.kern = kern;
        this.causal = causal;
    }

    @Override public String name() { return causal ? "exact/causal" : "exact/bidir"; }
    @Override public boolean causal() { return causal; }

    /** p: one (Lq×Lk) attention matrix per batch-head (separate arrays, so L² may exceed 2³¹ in total). */
    private static final class State implements Saved {
        Dims dims;
        float[] q, k, v;
        final float[][] p;
        final MaterializedExactAttention owner;

        State(MaterializedExactAttention owner, int bh, int pSize) {
            this.owner = owner;
            this.p = new float[bh][pSize];
        }

        @Override public Dims dims() { return dims; }
    }

    /** The dP / dS scratch of backward (Lq×Lk), one per worker thread, kept across calls. */
    private final ThreadLocal<float[]> dsScratch = new ThreadLocal<>();

    @Override
    public Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out, Saved reuse) {
        Attention.checkForward(this, dims, q, k, v, keyMask, out);
        int lq = dims.lq(), lk = dims.lk(), d = dims.dim();
        long pSize = (long) lq * lk;
        if (pSize > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException("exact attention needs an Lq×Lk matrix of " + pSize
                    + " floats per head, more than one Java array holds; use FAVOR+ for this length");
        State st = reuse instanceof State r && r.owner == this && r.p.length == dims.bh() && r.p[0].length == pSize
                ? r : new State(this, dims.bh(), (int) pSize);
        st.dims = dims; st.q = q; st.k = k; st.v = v;
        float[][] ps = st.p;
        float scale = (float) (1.0 / Math.sqrt(d));
        kern.parallelFor(dims.bh(), bh -> {
            int qo = bh * lq * d, ko = bh * lk * d, po = 0, b = bh / dims.heads();
            float[] p = ps[bh];
            kern.gemm(false, true, lq, lk, d, scale, q, qo, d, k, ko, d, 0f, p, po, lk);
            for (int i = 0; i < lq; i++) softmaxRow(p, po + i * lk, causal ? Math.min(i + 1, lk) : lk, lk, keyMask, b);
            kern.gemm(false, false, lq, d, lk, 1f, p, po, lk, v, ko, d, 0f, out, qo, d);
        });
        return st;
    }

    /**
     * Row of scores → probabilities over its first `visible` keys (masked keys and the rest 0; all 0 if none is
     * visible).
     */
    private void softmaxRow(float[] p, int row, int visible, int lk, float[] keyMask, int b) {
        Arrays.fill(p, row + visible, row + lk, 0f);
        float max = Float.NEGATIVE_INFINITY;
        if (keyMask == null) {
            if (visible > 0) max = kern.max(p, row, visible);
        } else {
            for (int j = 0; j < visible; j++) {
                if (keyMask[b * lk + j] == 0f) p[row + j] = Float.NEGATIVE_INFINITY;
                else max = Math.max(max, p[row + j]);
            }
        }
        if (max == Float.NEGATIVE_INFINITY) { // no visible key: output 0
            Arrays.fill(p, row, row + visible, 0f);
            return;
        }
        kern.expAffine(p, row, visible, -max, 1f, 0f);
        if (keyMask != null)
            for (int j = 0; j < visible; j++) if (keyMask[b * lk + j] == 0f) p[row + j] = 0f;
        kern.scale(p, row, visible, 1f / kern.sum(p, row, visible));
    }

    @Override
    public void backward(Saved saved, float[] dout, float[] dq, float[] dk, float[] dv) {
        if (!(saved instanceof State st)) throw new IllegalArgumentException("saved state is not from " + name());
        Dims dims = st.dims;
        Attention.checkBackward(dims, dout, dq, dk, dv);
        int lq = dims.lq(), lk = dims.lk(), d = dims.dim();
        float scale = (float) (1.0 / Math.sqrt(d));
        kern.parallelFor(dims.bh(), bh -> {
            int qo = bh * lq * d, ko = bh * lk * d, po = 0;
            float[] p = st.p[bh], ds = dsScratch.get();
            if (ds == null || ds.length < lq * lk) dsScratch.set(ds = new float[lq * lk]);
            kern.gemm(false, true, lq, lk, d, 1f, dout, qo, d, st.v, ko, d, 0f, ds, 0, lk);   // dP = dout vᵀ
            for (int i = 0; i < lq; i++) {
                float rowDot = kern.dot(p, po + i * lk, ds, i * lk, lk);
                for (int j = 0; j < lk; j++) ds[i * lk + j] = p[po + i * lk + j] * (ds[i * lk + j] - rowDot);
            }
            kern.gemm(false, false, lq, d, lk, scale, ds, 0, lk, st.k, ko, d, 0f, dq, qo, d);
            kern.gemm(true, false, lk, d, lq, scale, ds, 0, lk, st.q, qo, d, 0f, dk, ko, d);
            kern.gemm(true, false, lk, d, lq, 1f, p, po, lk, dout, qo, d, 0f, dv, ko, d);
        });
    }
}
