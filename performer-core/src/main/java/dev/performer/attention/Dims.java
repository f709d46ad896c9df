package dev.performer.attention;

/**
 * Shapes of one attention call: queries (B, H, Lq, D), keys and values (B, H, Lk, D),
 * key mask (B, Lk). Validates itself.
 */
public record Dims(int batch, int heads, int lq, int lk, int dim) {
    public Dims {
        if (batch < 1 || heads < 1 || lq < 1 || lk < 1 || dim < 1)
            throw new IllegalArgumentException("attention dims must be >= 1: B=" + batch + " H=" + heads
                    + " Lq=" + lq + " Lk=" + lk + " D=" + dim);
        if ((long) batch * heads * Math.max(lq, lk) * dim > Integer.MAX_VALUE)
            throw new IllegalArgumentException("tensor too large for one float[]: B·H·L·D = "
                    + (long) batch * heads * Math.max(lq, lk) * dim);
    }

    /** Self-attention dims (Lq = Lk = L). */
    public static Dims self(int batch, int heads, int l, int dim) { return new Dims(batch, heads, l, l, dim); }

    public int bh() { return batch * heads; }
    public int qSize() { return batch * heads * lq * dim; }
    public int kSize() { return batch * heads * lk * dim; }

    /** Checks array lengths of q, k, v (and mask when not null), naming the culprit. */
    public void check(float[] q, float[] k, float[] v, float[] keyMask) {
        checkLen("q", q, qSize(), "(B,H,Lq,D)");
        checkLen("k", k, kSize(), "(B,H,Lk,D)");
        checkLen("v", v, kSize(), "(B,H,Lk,D)");
        if (keyMask != null) checkLen("key mask", keyMask, batch * lk, "(B,Lk)");
    }

    void checkLen(String name, float[] x, int want, String shape) {
        if (x == null) throw new IllegalArgumentException(name + " is missing");
        if (x.length != want)
            throw new IllegalArgumentException(name + " has " + x.length + " elements, expected " + want
                    + " for " + shape + " = " + this);
    }
}
