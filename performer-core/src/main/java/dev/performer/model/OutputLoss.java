package dev.performer.model;

import dev.performer.kernel.Kernels;
import java.util.Arrays;

/**
 * Final LayerNorm, output layer tied to the token embedding, softmax and mean cross-entropy:
 * <pre>
 *   forward:  y (N, C) = LNf(x), logits (N, V) = y·wteᵀ, p = softmax(logits) per row,
 *             loss = −(1/count)·Σ_counted log p[target]     (rows with target −1 do not count)
 *   backward: dlogits = (p − onehot(target))/count (0 on rows without a target),
 *             dwte += dlogitsᵀ·y,  dy = dlogits·wte,  dx = LNf backward of dy
 *   rows:     p (N, V) = softmax(LNf(x)·wteᵀ) for the decoder's N tokens
 * </pre>
 */
final class OutputLoss {

    private final Kernels kern;
    private final float[] params, grads;
    private final int wteOff, c, vocab;
    private final LayerNorm lnf;

    OutputLoss(Kernels kern, ModelConfig cfg, ParameterLayout layout, float[] params, float[] grads) {
        this.kern = kern;
        this.params = params;
        this.grads = grads;
        this.wteOff = layout.offset("wte");
        this.c = cfg.width();
        this.vocab = cfg.vocab();
        this.lnf = new LayerNorm(kern, params, grads, layout.offset("lnf.g"), layout.offset("lnf.b"), c);
    }

    /** The mean cross-entropy of x (N, C) against targets (N, or null); a.probs (N, V), a.counted set. */
    float forward(Activations a, float[] x, int[] targets) {
        int n = a.n;
        float[] probs = a.probs;
        lnf.forward(x, a.lnf, a.lnfMean, a.lnfRstd, n);
        kern.gemm(false, true, n, vocab, c, 1f, a.lnf, 0, c, params, wteOff, c, 0f, probs, 0, vocab); // y·wteᵀ
        double loss = 0;
        int counted = 0;
        for (int i = 0; i < n; i++) {
            int row = i * vocab;
            float mx = kern.max(probs, row, vocab);
            kern.expAffine(probs, row, vocab, -mx, 1f, 0f);
            float sum = kern.sum(probs, row, vocab);
            kern.scale(probs, row, vocab, 1f / sum);
            if (targets != null && targets[i] >= 0) {
                if (targets[i] >= vocab)
                    throw new IllegalArgumentException("target " + targets[i] + " outside vocabulary");
                loss -= Math.log(Math.max(probs[row + targets[i]], Float.MIN_NORMAL));
                counted++;
            }
        }
        a.counted = counted;
        return counted == 0 ? 0f : (float) (loss / counted);
    }

    /** g.dx (N, C) = d(loss)/dx at the input x of the last forward; dwte, dlnf += (a.probs is overwritten). */
    void backward(Activations a, float[] x, int[] targets, GradScratch g) {
        int n = a.n;
        float[] probs = a.probs;
        // dlogits = (p − onehot)/count, in place in probs (rows without a target contribute nothing)
        float inv = a.counted == 0 ? 0f : 1f / a.counted;
        for (int i = 0; i < n; i++) {
            int row = i * vocab;
            if (targets == null || targets[i] < 0) { Arrays.fill(probs, row, row + vocab, 0f); continue; }
            probs[row + targets[i]] -= 1f;
            kern.scale(probs, row, vocab, inv);
        }
        kern.gemm(true, false, vocab, c, n, 1f, probs, 0, vocab, a.lnf, 0, c, 1f, grads, wteOff, c); // dwte += dlᵀ·y
        kern.gemm(false, false, n, c, vocab, 1f, probs, 0, vocab, params, wteOff, c, 0f, g.dln, 0, c); // dy = dl·wte
        Arrays.fill(g.dx, 0f);
        lnf.backward(g.dln, x, a.lnfMean, a.lnfRstd, g.dx, n);
    }

    /** r.logits (N, V) = softmax(LNf(r.x)·wteᵀ) per row, the N rows in one product. */
    void forwardRows(RowBuffers r) {
        int n = r.n;
        lnf.forward(r.x, r.a, r.mean, r.rstd, n);
        kern.gemm(false, true, n, vocab, c, 1f, r.a, 0, c, params, wteOff, c, 0f, r.logits, 0, vocab);
        for (int i = 0; i < n; i++) {
            int row = i * vocab;
            float mx = kern.max(r.logits, row, vocab);
            kern.expAffine(r.logits, row, vocab, -mx, 1f, 0f);
            kern.scale(r.logits, row, vocab, 1f / kern.sum(r.logits, row, vocab));
        }
    }
}
