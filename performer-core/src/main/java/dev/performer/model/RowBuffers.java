package dev.performer.model;

/**
 * The buffers of one decoded token (N = 1 row): the residual stream and each layer's row
 * intermediates, reused by every step of a {@link PerformerModel.Decoder}. C width, F feed-forward
 * width, V vocabulary, D head dimension.
 */
final class RowBuffers {

    /** (C) the residual stream of the token. */
    final float[] x;
    /** (C) a LayerNorm output. */
    final float[] a;
    /** (3C) the qkv row, columns q | k | v of H heads of D. */
    final float[] qkv;
    /** (C) the attention output, heads side by side. */
    final float[] o;
    /** (F) the feed-forward hidden row. */
    final float[] hid;
    /** (C) a branch output before it is added to x. */
    final float[] tmp;
    /** (V) the next token's probabilities. */
    final float[] logits;
    /** (1) LayerNorm mean and 1/std of the row. */
    final float[] mean = new float[1], rstd = new float[1];
    /** (D/2) rotary cos and sin of the token's position. */
    final float[] cos, sin;

    RowBuffers(ModelConfig cfg) {
        int c = cfg.width();
        x = new float[c];
        a = new float[c];
        qkv = new float[3 * c];
        o = new float[c];
        hid = new float[cfg.ffn()];
        tmp = new float[c];
        logits = new float[cfg.vocab()];
        cos = new float[cfg.headDim() / 2];
        sin = new float[cfg.headDim() / 2];
    }
}
