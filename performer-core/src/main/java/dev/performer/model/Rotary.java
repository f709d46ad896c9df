package dev.performer.model;

import dev.performer.kernel.Kernels;

/**
 * Rotary positions (RoFormer, interleaved pairs) on q and k of every head: the pair
 * (x[2i], x[2i+1]) of the row at position t turns by t·θ_i, θ_i = 10000^(−2i/D), i < D/2.
 * <pre>
 *   forward:  q, k (B, H, T, D) rotated in place by R(t·θ)
 *   backward: dq, dk (B, H, T, D) rotated in place by R(−t·θ) = R(t·θ)ᵀ
 *   row:      one token's q and k (H heads of D in a (3C) qkv row) rotated by R(pos·θ)
 * </pre>
 * The angles of positions below maxLen L are tabulated, cos and sin (L, D/2); the decoder computes
 * the angles of its one position (any position, also ≥ L).
 */
final class Rotary {

    private final Kernels kern;
    private final int d;
    private final float[] cos, sin; // (L, D/2)

    Rotary(Kernels kern, int maxLen, int d) {
        this.kern = kern;
        this.d = d;
        int half = d / 2;
        cos = new float[maxLen * half];
        sin = new float[maxLen * half];
        for (int t = 0; t < maxLen; t++)
            for (int i = 0; i < half; i++) {
                double ang = angle(t, i, d);
                cos[t * half + i] = (float) Math.cos(ang);
                sin[t * half + i] = (float) Math.sin(ang);
            }
    }

    /** Rotary angle of pair i at position t for head dimension D: t·10000^(−2i/D). */
    static double angle(int t, int i, int d) { return t * Math.pow(10000, -2.0 * i / d); }

    /** x (BH, T, D) rotated in place by position. */
    void forward(float[] x, int bh, int t) { rotate(x, bh, t, false); }

    /** dx (BH, T, D) rotated back in place (the transpose of the forward rotation). */
    void backward(float[] dx, int bh, int t) { rotate(dx, bh, t, true); }

    private void rotate(float[] x, int bh, int t, boolean inverse) {
        int half = d / 2;
        kern.parallelFor(bh, r -> {
            for (int ti = 0; ti < t; ti++) rotatePairs(x, (r * t + ti) * d, cos, sin, ti * half, d, inverse);
        });
    }

    /** The angles of one position pos: rowCos, rowSin (D/2). */
    void angles(int pos, float[] rowCos, float[] rowSin) {
        for (int i = 0; i < d / 2; i++) {
            double ang = angle(pos, i, d);
            rowCos[i] = (float) Math.cos(ang);
            rowSin[i] = (float) Math.sin(ang);
        }
    }

    /**
     * h heads of q (at qOff) and of k (at kOff) of one qkv row (columns q | k | v), D each, rotated
     * by the angles of {@link #angles}: all H heads, or one part's heads of a step split by heads.
     */
    void forwardRow(float[] qkvRow, int qOff, int kOff, int h, float[] rowCos, float[] rowSin) {
        for (int hi = 0; hi < h; hi++) {
            rotatePairs(qkvRow, qOff + hi * d, rowCos, rowSin, 0, d, false);
            rotatePairs(qkvRow, kOff + hi * d, rowCos, rowSin, 0, d, false);
        }
    }

    private static void rotatePairs(float[] x, int off, float[] cos, float[] sin, int angOff, int d, boolean inverse) {
        for (int i = 0; i < d / 2; i++) {
            float cs = cos[angOff + i], sn = inverse ? -sin[angOff + i] : sin[angOff + i];
            float a = x[off + 2 * i], b = x[off + 2 * i + 1];
            x[off + 2 * i] = a * cs - b * sn;
            x[off + 2 * i + 1] = a * sn + b * cs;
        }
    }
}
