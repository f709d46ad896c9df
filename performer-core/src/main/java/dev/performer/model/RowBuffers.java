package dev.performer.model;

/**
 * The buffers of one decoding step of N sequences side by side (N rows, N = 1 for one sequence):
 * the residual streams and each layer's row intermediates, reused by every step of a
 * {@link PerformerModel.BatchDecoder}. C width, F feed-forward width, V vocabulary, D head dimension.
 */
final class RowBuffers {

    /** N, the rows (sequences) of a step. */
    final int n;
    /** (N, C) the residual streams of the tokens. */
    final float[] x;
    /** (N, C) a LayerNorm output. */
    final float[] a;
    /** (N, 3C) the qkv rows, columns q | k | v of H heads of D. */
    final float[] qkv;
    /** (N, C) the attention outputs, heads side by side. */
    final float[] o;
    /** (N, F) the feed-forward hidden rows. */
    final float[] hid;
    /** (N, C) a branch output before it is added to x. */
    final float[] tmp;
    /** (N, V) the next tokens' probabilities. */
    final float[] logits;
    /** (N) LayerNorm mean and 1/std of the rows. */
    final float[] mean, rstd;
    /** (D/2) rotary cos and sin of the tokens' position (all rows are at the same position). */
    final float[] cos, sin;

    RowBuffers(ModelConfig cfg, int n) {
        if (n < 1) throw new IllegalArgumentException("a decoding batch needs at least 1 sequence, got " + n);
        int c = cfg.width();
        this.n = n;
        x = new float[n * c];
        a = new float[n * c];
        qkv = new float[n * 3 * c];
        o = new float[n * c];
        hid = new float[n * cfg.ffn()];
        tmp = new float[n * c];
        logits = new float[n * cfg.vocab()];
        mean = new float[n];
        rstd = new float[n];
        cos = new float[cfg.headDim() / 2];
        sin = new float[cfg.headDim() / 2];
    }
}
