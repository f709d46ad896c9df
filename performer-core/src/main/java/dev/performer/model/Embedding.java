package dev.performer.model;

import dev.performer.kernel.Kernels;

/**
 * Token embedding plus absolute positions (learned or sinusoidal; none with rotary positions,
 * which act on q and k inside the attention):
 * <pre>
 *   forward:  x (N, C) = wte[tok] + pos[t],   wte (V, C), pos = wpe (L, C) or sinusoid (L, C), N = B·T
 *   backward: dwte[tok] += dx,  dwpe[t] += dx  (learned positions only)
 *   row:      x (C) = wte[token] + pos[pos] for one of the decoder's tokens
 * </pre>
 */
final class Embedding {

    private final Kernels kern;
    private final float[] params, grads;
    private final int wteOff, wpeOff, c, vocab, maxLen;
    private final float[] sinusoid; // (L, C) fixed positions, or null with learned or rotary positions

    Embedding(Kernels kern, ModelConfig cfg, ParameterLayout layout, float[] params, float[] grads) {
        this.kern = kern;
        this.params = params;
        this.grads = grads;
        this.wteOff = layout.offset("wte");
        this.wpeOff = layout.has("wpe") ? layout.offset("wpe") : -1;
        this.c = cfg.width();
        this.vocab = cfg.vocab();
        this.maxLen = cfg.maxLen();
        this.sinusoid = cfg.positions() == Positions.SINUSOIDAL ? sinusoid(cfg.maxLen(), cfg.width()) : null;
    }

    /** Fixed sinusoidal positions (L, C): sin(t/10000^(2i/C)) in even columns, cos in odd ones. */
    static float[] sinusoid(int l, int c) {
        float[] pe = new float[l * c];
        for (int t = 0; t < l; t++)
            for (int i = 0; i < c; i += 2) {
                double ang = t / Math.pow(10000, (double) i / c);
                pe[t * c + i] = (float) Math.sin(ang);
                if (i + 1 < c) pe[t * c + i + 1] = (float) Math.cos(ang);
            }
        return pe;
    }

    /** x (N, C) = wte[tokens] + positions, tokens (B, T) with N = B·T; rejects tokens outside the vocabulary. */
    void forward(int[] tokens, float[] x, int n, int t) {
        for (int i = 0; i < n; i++) {
            int tok = tokens[i], pos = i % t;
            if (tok < 0 || tok >= vocab)
                throw new IllegalArgumentException("token " + tok + " at " + i + " outside vocabulary of " + vocab);
            System.arraycopy(params, wteOff + tok * c, x, i * c, c);
            if (wpeOff >= 0) kern.axpy(1f, params, wpeOff + pos * c, x, i * c, c);
            else if (sinusoid != null) kern.axpy(1f, sinusoid, pos * c, x, i * c, c);
        }
    }

    /** dwte[tokens] += dx (N, C); dwpe[t] += dx with learned positions. */
    void backward(float[] dx, int[] tokens, int n, int t) {
        for (int i = 0; i < n; i++) {
            kern.axpy(1f, dx, i * c, grads, wteOff + tokens[i] * c, c);
            if (wpeOff >= 0) kern.axpy(1f, dx, i * c, grads, wpeOff + (i % t) * c, c);
        }
    }

    /**
     * x (C, at off) = wte[token] + position pos (sinusoids computed for any pos; learned ones only
     * below maxLen).
     */
    void forwardRow(int token, int pos, float[] x, int off) {
        if (token < 0 || token >= vocab)
            throw new IllegalArgumentException("token " + token + " outside vocabulary of " + vocab);
        System.arraycopy(params, wteOff + token * c, x, off, c);
        if (wpeOff >= 0) {
            if (pos >= maxLen)
                throw new IllegalStateException("position " + pos + " beyond the learned positions (maxLen "
                        + maxLen + ")");
            kern.axpy(1f, params, wpeOff + pos * c, x, off, c);
        } else if (sinusoid != null) {
            for (int i = 0; i < c; i += 2) {
                double ang = pos / Math.pow(10000, (double) i / c);
                x[off + i] += (float) Math.sin(ang);
                if (i + 1 < c) x[off + i + 1] += (float) Math.cos(ang);
            }
        }
    }
}
