package dev.performer.model;

import java.util.Locale;

/**
 * The shape of a Performer model. Validates itself.
 *
 * @param vocab      V, vocabulary size
 * @param maxLen     L, longest sequence (size of the learned position table)
 * @param layers     number of Transformer blocks
 * @param width      C, model width (a multiple of heads)
 * @param heads      H
 * @param ffn        F, feed-forward width
 * @param attention  exact | favor-softmax | favor-relu | identity
 * @param causal     unidirectional (next-token) or bidirectional
 * @param features   M, random features per head for FAVOR+
 * @param orthogonal orthogonal (true) or iid random projections
 * @param positional learned (a table of L positions added to the embedding) | sinusoidal (fixed, added) |
 *                   rotary (RoFormer: each head's query and key pairs rotated by position; needs an even D)
 * @param dropout    residual and attention-output dropout probability
 */
public record ModelConfig(int vocab, int maxLen, int layers, int width, int heads, int ffn, String attention, boolean causal,
                          int features, boolean orthogonal, String positional, float dropout) {

    public ModelConfig {
        if (vocab < 2) throw new IllegalArgumentException("vocab must be >= 2, got " + vocab);
        if (maxLen < 1) throw new IllegalArgumentException("maxLen must be >= 1, got " + maxLen);
        if (layers < 1) throw new IllegalArgumentException("layers must be >= 1, got " + layers);
        if (width < 1 || heads < 1 || width % heads != 0)
            throw new IllegalArgumentException("width " + width + " must be a positive multiple of heads " + heads);
        if (ffn < 1) throw new IllegalArgumentException("ffn must be >= 1, got " + ffn);
        if (!java.util.Set.of("exact", "favor-softmax", "favor-relu", "identity").contains(attention))
            throw new IllegalArgumentException("attention must be exact, favor-softmax, favor-relu or identity, got '" + attention + "'");
        if (attention.startsWith("favor") && features < 1) throw new IllegalArgumentException("features must be >= 1, got " + features);
        if (!java.util.Set.of("learned", "sinusoidal", "rotary").contains(positional))
            throw new IllegalArgumentException("positional must be learned, sinusoidal or rotary, got '" + positional + "'");
        if (positional.equals("rotary") && (width / heads) % 2 != 0)
            throw new IllegalArgumentException("rotary positions need an even head dimension, got D = " + width / heads);
        if (!(dropout >= 0f && dropout < 1f)) throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    }

    public int headDim() { return width / heads; }

    /** A compact description for logs. */
    public String describe() {
        return String.format(Locale.ROOT, "%s %s, %d layers, width %d, %d heads, ffn %d, vocab %d, L<=%d%s, %s positions, dropout %.2f",
                attention, causal ? "causal" : "bidirectional", layers, width, heads, ffn, vocab, maxLen,
                attention.startsWith("favor") ? ", M=" + features + (orthogonal ? " orthogonal" : " iid") : "", positional, dropout);
    }
}
