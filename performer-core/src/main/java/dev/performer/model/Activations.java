package dev.performer.model;

import dev.performer.attention.Attention;
import dev.performer.attention.Dims;

/**
 * Everything the forward keeps for the backward, for one batch shape (B, T), allocated once when
 * the shape changes and reused by every step at that shape (a training step allocates no buffers).
 * N = B·T rows, C width, F feed-forward width, V vocabulary, H heads of D, L layers; per-layer
 * buffers are indexed [layer].
 */
final class Activations {

    final int b, t, n;
    /** (B, H, T, D) of this shape, for the attention. */
    final Dims dims;
    /** [L+1] (N, C): the input of each layer (resIn[0] is the embedding), resIn[L] the final residual. */
    final float[][] resIn;
    /** [L] (N, C) LN1 output; [L] (N) its mean and 1/std. */
    final float[][] ln1, ln1Mean, ln1Rstd;
    /** [L] (N, 3C) the qkv projection, columns q | k | v. */
    final float[][] qkv;
    /** [L] (B, H, T, D) the heads of q, k (rotated with rotary positions) and v, and the attention output. */
    final float[][] q, k, v, att;
    /** [L] (N, C) the attention output with the heads merged back. */
    final float[][] attMerged;
    /** [L] what each layer's attention kept for its backward (reused across steps). */
    final Attention.Saved[] saved;
    /** [L] (N, C) the residual after the attention block: x + drop(proj(attention)). */
    final float[][] res2;
    /** [L] (N, C) LN2 output; [L] (N) its mean and 1/std. */
    final float[][] ln2, ln2Mean, ln2Rstd;
    /** [L] (N, F) fc output before and after GELU. */
    final float[][] fcPre, fcAct;
    /** (N, C) final LayerNorm output (the per-token representation); (N) its mean and 1/std. */
    final float[] lnf, lnfMean, lnfRstd;
    /** (N, V) softmax of the logits; the backward turns it into dlogits in place. */
    final float[] probs;
    /** Targets counted in the last forward's loss. */
    int counted;
    /** Row of a larger batch that row 0 of this one is (0 unless a shard): dropout masks follow it. */
    int firstRow;

    /** Index of element 0 of an (N, width) buffer in the whole batch's dropout mask. */
    long dropFirst(int width) { return (long) firstRow * t * width; }

    Activations(ModelConfig cfg, int b, int t) {
        int n = b * t, c = cfg.width(), f = cfg.ffn(), nl = cfg.layers();
        this.b = b;
        this.t = t;
        this.n = n;
        dims = Dims.self(b, cfg.heads(), t, cfg.headDim());
        resIn = new float[nl + 1][n * c];
        ln1 = new float[nl][n * c];
        ln1Mean = new float[nl][n];
        ln1Rstd = new float[nl][n];
        qkv = new float[nl][n * 3 * c];
        q = new float[nl][n * c];
        k = new float[nl][n * c];
        v = new float[nl][n * c];
        att = new float[nl][n * c];
        attMerged = new float[nl][n * c];
        saved = new Attention.Saved[nl];
        res2 = new float[nl][n * c];
        ln2 = new float[nl][n * c];
        ln2Mean = new float[nl][n];
        ln2Rstd = new float[nl][n];
        fcPre = new float[nl][n * f];
        fcAct = new float[nl][n * f];
        lnf = new float[n * c];
        lnfMean = new float[n];
        lnfRstd = new float[n];
        probs = new float[n * cfg.vocab()];
    }

    boolean fits(int b, int t) { return b == this.b && t == this.t; }
}
