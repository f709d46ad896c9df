package dev.performer.model;

/**
 * Gradient scratch of the backward for one batch shape (B, T), allocated with the
 * {@link Activations} of that shape and reused by every step. N = B·T, C width, F feed-forward
 * width; (B, H, T, D) buffers hold N·C floats.
 */
final class GradScratch {

    /** (N, C) d(loss)/d(residual stream), carried from the output down to the embedding. */
    final float[] dx;
    /** (N, C) a branch's gradient (dropout applied), then the attention's d(output) as (B, H, T, D). */
    final float[] dtmp;
    /** (N, C) d(LayerNorm output). */
    final float[] dln;
    /** (N, 3C) d(qkv), columns dq | dk | dv. */
    final float[] dqkv;
    /** (B, H, T, D) dq, dk, dv of the heads. */
    final float[] dq, dk, dv;
    /** (N, C) d(merged attention output). */
    final float[] datt;
    /** (N, F) d(fc output), before and after GELU'. */
    final float[] dfc;

    GradScratch(ModelConfig cfg, int b, int t) {
        int n = b * t, c = cfg.width();
        dx = new float[n * c];
        dtmp = new float[n * c];
        dln = new float[n * c];
        dqkv = new float[n * 3 * c];
        dq = new float[n * c];
        dk = new float[n * c];
        dv = new float[n * c];
        datt = new float[n * c];
        dfc = new float[n * cfg.ffn()];
    }
}
