package dev.performer.model;

import dev.performer.kernel.Kernels;

/**
 * An affine map of N rows (N = B·T, or 1 when decoding) from I to O features, with weight
 * W (I, O) row-major and bias b (O) in the flat parameter buffer:
 * <pre>
 *   forward:  y (N, O) = x (N, I)·W + b
 *   backward: dx (N, I) += dy·Wᵀ,  dW (I, O) += xᵀ·dy,  db (O) += Σ_rows dy
 * </pre>
 * Used as qkv (C → 3C), proj (C → C), fc (C → F) and fcproj (F → C).
 */
final class Linear {

    private final Kernels kern;
    private final float[] params, grads;
    private final int wOff, bOff, in, out;

    Linear(Kernels kern, float[] params, float[] grads, int wOff, int bOff, int in, int out) {
        this.kern = kern;
        this.params = params;
        this.grads = grads;
        this.wOff = wOff;
        this.bOff = bOff;
        this.in = in;
        this.out = out;
    }

    /** y (n, O) = x (n, I)·W (I, O) + b. */
    void forward(float[] x, float[] y, int n) {
        kern.gemm(false, false, n, out, in, 1f, x, 0, in, params, wOff, out, 0f, y, 0, out);
        for (int r = 0; r < n; r++) kern.axpy(1f, params, bOff, y, r * out, out);
    }

    /**
     * Columns [j0, j1) of y (n, O) = x (n, I)·W + b, the other columns untouched: one part of a
     * decoding step split by columns. Each column sums as in {@link #forward} (bit for bit when j0 and
     * j1 are multiples of the vector width, or j1 = O).
     */
    void forwardColumns(float[] x, float[] y, int n, int j0, int j1) {
        if (j0 < 0 || j1 > out || j0 > j1)
            throw new IllegalArgumentException("columns [" + j0 + ", " + j1 + ") outside [0, " + out + ")");
        if (j0 == j1) return;
        kern.gemm(false, false, n, j1 - j0, in, 1f, x, 0, in, params, wOff + j0, out, 0f, y, j0, out);
        for (int r = 0; r < n; r++) kern.axpy(1f, params, bOff + j0, y, r * out + j0, j1 - j0);
    }

    /** dx += dy·Wᵀ; dW += xᵀ·dy; db += Σ rows of dy. */
    void backward(float[] x, float[] dy, float[] dx, int n) {
        kern.gemm(false, true, n, in, out, 1f, dy, 0, out, params, wOff, out, 1f, dx, 0, in);
        kern.gemm(true, false, in, out, n, 1f, x, 0, in, dy, 0, out, 1f, grads, wOff, out);
        for (int r = 0; r < n; r++) kern.axpy(1f, dy, r * out, grads, bOff, out);
    }
}
