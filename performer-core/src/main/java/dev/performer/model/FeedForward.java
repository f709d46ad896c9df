package dev.performer.model;

import dev.performer.kernel.ElementwiseOp;
import dev.performer.kernel.Kernels;
import java.util.Arrays;

/**
 * The feed-forward half of a pre-LayerNorm block, N = B·T rows:
 * <pre>
 *   forward:  f = LN2(x)                       x, f (N, C)
 *             u = f·Wfc + b,  h = gelu(u)      (N, F)
 *             x' = x + drop(h·Wfcproj + b)     (N, C)
 *   backward: dh = drop'(dx')·Wfcprojᵀ, du = dh ⊙ gelu'(u), df = du·Wfcᵀ, dx = dx' + LN2 backward of df
 *             (weight and bias gradients += along the way)
 *   rows:     the same forward on the decoder's N tokens, one per sequence (no dropout)
 * </pre>
 */
final class FeedForward {

    /** Elements per parallel task of the element-wise maps (64K floats: 256 KB, well above task overhead). */
    private static final int MAP_CHUNK = 1 << 16;

    private final Kernels kern;
    private final int layer, c, f;
    private final LayerNorm ln2;
    private final Linear fc, fcproj;
    private final Dropout drop;

    FeedForward(Kernels kern, ModelConfig cfg, ParameterLayout lay, float[] params, float[] grads, int layer) {
        String p = "h" + layer + ".";
        this.kern = kern;
        this.layer = layer;
        this.c = cfg.width();
        this.f = cfg.ffn();
        this.ln2 = new LayerNorm(kern, params, grads, lay.offset(p + "ln2.g"), lay.offset(p + "ln2.b"), c);
        this.fc = new Linear(kern, params, grads, lay.offset(p + "fc.w"), lay.offset(p + "fc.b"), c, f);
        this.fcproj = new Linear(kern, params, grads, lay.offset(p + "fcproj.w"), lay.offset(p + "fcproj.b"), f, c);
        this.drop = new Dropout(kern, cfg.dropout(), layer, 1);
    }

    /** a.resIn[l+1] (N, C) = a.res2[l] + drop(fcproj(gelu(fc(LN2(a.res2[l]))))). */
    void forward(Activations a, boolean dropOn, long dropSeed) {
        int l = layer, n = a.n;
        float[] x = a.res2[l], next = a.resIn[l + 1];
        ln2.forward(x, a.ln2[l], a.ln2Mean[l], a.ln2Rstd[l], n);
        fc.forward(a.ln2[l], a.fcPre[l], n);
        map(ElementwiseOp.GELU, a.fcPre[l], a.fcAct[l], n * f);
        fcproj.forward(a.fcAct[l], next, n);
        if (dropOn) drop.forward(next, n * c, dropSeed, a.dropFirst(c));
        kern.axpy(1f, x, 0, next, 0, n * c);                                // x' = res2 + drop(fcproj)
    }

    /** g.dx (N, C): d(x') in, d(res2) out. Overwrites a.fcAct[l] (with gelu'), which only this backward reads. */
    void backward(Activations a, GradScratch g, boolean dropOn, long dropSeed) {
        int l = layer, n = a.n;
        System.arraycopy(g.dx, 0, g.dtmp, 0, n * c);
        if (dropOn) drop.backward(g.dtmp, n * c, dropSeed, a.dropFirst(c));
        Arrays.fill(g.dfc, 0f);
        fcproj.backward(a.fcAct[l], g.dtmp, g.dfc, n);
        float[] gd = a.fcAct[l];                                            // fcAct is not needed any more: gelu'
        map(ElementwiseOp.GELU_GRAD, a.fcPre[l], gd, n * f);
        kern.mul(g.dfc, 0, gd, 0, g.dfc, 0, n * f);
        Arrays.fill(g.dln, 0f);
        fc.backward(a.ln2[l], g.dfc, g.dln, n);
        ln2.backward(g.dln, a.res2[l], a.ln2Mean[l], a.ln2Rstd[l], g.dx, n);
    }

    /** r.x (N, C) += fcproj(gelu(fc(LN2(r.x)))) for the decoder's N tokens (the maps on N rows at once). */
    void forwardRows(RowBuffers r) {
        int n = r.n;
        ln2.forward(r.x, r.a, r.mean, r.rstd, n);
        fc.forward(r.a, r.hid, n);
        for (int i = 0; i < n; i++) kern.map(ElementwiseOp.GELU, r.hid, i * f, r.hid, i * f, f);
        fcproj.forward(r.hid, r.tmp, n);
        for (int i = 0; i < n; i++) kern.axpy(1f, r.tmp, i * c, r.x, i * c, c);
    }

    /**
     * Hidden columns [f0, f1) of the decoder's N rows: out (N, C) = LN2(r.x) (this part's own copy, with
     * mean and rstd (N)), r.hid[:, f0:f1] = gelu(fc columns of out). The first half of a feed-forward
     * step split by columns; {@link #projectColumns} is the second, after all hidden columns are done.
     */
    void hiddenColumns(RowBuffers r, float[] out, float[] mean, float[] rstd, int f0, int f1) {
        int n = r.n;
        ln2.forward(r.x, out, mean, rstd, n);
        fc.forwardColumns(out, r.hid, n, f0, f1);
        for (int i = 0; i < n; i++) kern.map(ElementwiseOp.GELU, r.hid, i * f + f0, r.hid, i * f + f0, f1 - f0);
    }

    /** Columns [c0, c1) of r.x (N, C) += fcproj(r.hid): the second half of a step split by columns. */
    void projectColumns(RowBuffers r, int c0, int c1) {
        fcproj.forwardColumns(r.hid, r.tmp, r.n, c0, c1);
        for (int i = 0; i < r.n; i++) kern.axpy(1f, r.tmp, i * c + c0, r.x, i * c + c0, c1 - c0);
    }

    /** out = op(x) over n elements, split across the backend's threads. */
    private void map(ElementwiseOp op, float[] x, float[] out, int n) {
        int tasks = (n + MAP_CHUNK - 1) / MAP_CHUNK;
        kern.parallelFor(tasks, i -> {
            int from = i * MAP_CHUNK;
            kern.map(op, x, from, out, from, Math.min(MAP_CHUNK, n - from));
        });
    }
}
