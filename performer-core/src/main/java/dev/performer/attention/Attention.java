package dev.performer.attention;

/**
 * An attention operator with forward and backward over (B, H, L, D) float32 tensors.
 *
 * <p>{@link #forward} writes {@code out} and returns what backward needs ({@link Saved}); the
 * inputs are referenced, not copied, and must not change before backward. {@link #backward}
 * overwrites dq, dk, dv with the gradients of {@code sum(out·dout)}.
 */
public interface Attention {

    /** Opaque state saved by forward for backward. */
    interface Saved {
        Dims dims();
    }

    /** A short name, e.g. {@code favor-softmax/causal}. */
    String name();

    /** Whether the attention is causal (query i sees keys j ≤ i; then Lq must equal Lk). */
    boolean causal();

    /**
     * Computes {@code out} (B,H,Lq,D). keyMask (B,Lk) holds 1 to keep and 0 to drop a key, or is
     * null for no mask.
     */
    default Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out) {
        return forward(dims, q, k, v, keyMask, out, null);
    }

    /**
     * As {@link #forward(Dims, float[], float[], float[], float[], float[])}, recycling the buffers
     * of {@code reuse} (a Saved from an earlier forward of this operator, or null) when their sizes
     * fit: a training loop passes the previous step's Saved and allocates nothing. The returned
     * Saved may be {@code reuse} itself, so reuse must not be needed for another backward.
     */
    Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out, Saved reuse);

    /** Overwrites dq (B,H,Lq,D), dk and dv (B,H,Lk,D) with the gradients of sum(out·dout). */
    void backward(Saved saved, float[] dout, float[] dq, float[] dk, float[] dv);

    /** Checks the common arguments of forward. */
    static void checkForward(Attention a, Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out) {
        dims.check(q, k, v, keyMask);
        dims.checkLen("out", out, dims.qSize(), "(B,H,Lq,D)");
        if (a.causal() && dims.lq() != dims.lk())
            throw new IllegalArgumentException(a.name() + ": causal attention needs Lq == Lk, got " + dims);
        if (keyMask != null) {
            for (int i = 0; i < keyMask.length; i++)
                if (keyMask[i] != 0f && keyMask[i] != 1f)
                    throw new IllegalArgumentException("key mask must hold 0 or 1, found " + keyMask[i]
                            + " at (b=" + i / dims.lk() + ", l=" + i % dims.lk() + ")");
        }
    }

    /** Checks the common arguments of backward. */
    static void checkBackward(Dims dims, float[] dout, float[] dq, float[] dk, float[] dv) {
        dims.checkLen("dout", dout, dims.qSize(), "(B,H,Lq,D)");
        dims.checkLen("dq", dq, dims.qSize(), "(B,H,Lq,D)");
        dims.checkLen("dk", dk, dims.kSize(), "(B,H,Lk,D)");
        dims.checkLen("dv", dv, dims.kSize(), "(B,H,Lk,D)");
    }
}
