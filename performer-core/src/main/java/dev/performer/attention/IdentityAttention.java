package dev.performer.attention;

/**
 * The paper's 'X (OPT)' baseline: attention that returns V (Lq must equal Lk). It bounds from
 * below what any attention costs inside a model. The key mask is ignored. Backward: dv = dout,
 * dq = dk = 0.
 */
public final class IdentityAttention implements Attention {

    private final boolean causal;

    public IdentityAttention(boolean causal) { this.causal = causal; }

    @Override public String name() { return causal ? "identity/causal" : "identity/bidir"; }
    @Override public boolean causal() { return causal; }

    private record State(Dims dims) implements Saved {}

    @Override
    public Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out, Saved reuse) {
        Attention.checkForward(this, dims, q, k, v, keyMask, out);
        if (dims.lq() != dims.lk())
            throw new IllegalArgumentException("identity attention needs Lq == Lk, got " + dims);
        System.arraycopy(v, 0, out, 0, v.length);
        return reuse instanceof State r && r.dims().equals(dims) ? r : new State(dims);
    }

    @Override
    public void backward(Saved saved, float[] dout, float[] dq, float[] dk, float[] dv) {
        Attention.checkBackward(saved.dims(), dout, dq, dk, dv);
        java.util.Arrays.fill(dq, 0f);
        java.util.Arrays.fill(dk, 0f);
        System.arraycopy(dout, 0, dv, 0, dout.length);
    }
}
