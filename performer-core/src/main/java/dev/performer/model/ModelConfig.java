package dev.performer.model;

import dev.performer.attention.AttentionSpec;
import dev.performer.attention.FeatureKind;
import dev.performer.attention.Projection;
import dev.performer.data.Tokenizer;
import java.util.Locale;

/**
 * The shape of a Performer model. Validates itself. Start from a preset ({@link #small()},
 * {@link #paper()}, {@link #paperSmall()}) or {@link #builder()} and change what differs:
 * <pre>{@code
 * ModelConfig cfg = ModelConfig.builder().layers(4).width(256).heads(8).ffn(1024)
 *         .attention(AttentionSpec.favor(FeatureKind.RELU, 128)).direction(Direction.CAUSAL).build();
 * }</pre>
 *
 * @param tokenizer the kind of data and its vocabulary (protein letters, image pixels, bytes), saved with the
 *                  model
 * @param vocab     V, vocabulary size: the tokenizer's {@link Tokenizer#vocabSize()} to train on its data (smaller
 *                  only for synthetic tokens in tests; {@link dev.performer.train.Trainer} checks)
 * @param maxLen    L, longest sequence (the size of the learned position table; the training L must fit)
 * @param layers    number of Transformer blocks
 * @param width     C, model width (a multiple of heads)
 * @param heads     H
 * @param ffn       F, feed-forward width
 * @param attention what each block's attention computes (exact, identity, FAVOR+ with its features)
 * @param direction bidirectional (masked LM) or causal (next-token LM)
 * @param positions learned, sinusoidal or rotary (rotary needs an even head dimension D = C/H)
 * @param dropout   residual and attention-output dropout probability, in [0, 1)
 */
public record ModelConfig(Tokenizer tokenizer, int vocab, int maxLen, int layers, int width, int heads, int ffn,
                          AttentionSpec attention, Direction direction, Positions positions, float dropout) {

    public ModelConfig {
        if (tokenizer == null) throw new IllegalArgumentException("tokenizer must be given");
        if (vocab < 2) throw new IllegalArgumentException("vocab must be >= 2, got " + vocab);
        if (maxLen < 1) throw new IllegalArgumentException("maxLen must be >= 1, got " + maxLen);
        if (layers < 1) throw new IllegalArgumentException("layers must be >= 1, got " + layers);
        if (width < 1 || heads < 1 || width % heads != 0)
            throw new IllegalArgumentException("width " + width + " must be a positive multiple of heads " + heads);
        if (ffn < 1) throw new IllegalArgumentException("ffn must be >= 1, got " + ffn);
        if (attention == null) throw new IllegalArgumentException("attention must be given");
        if (direction == null) throw new IllegalArgumentException("direction must be given");
        if (positions == null) throw new IllegalArgumentException("positions must be given");
        if (attention instanceof AttentionSpec.Linformer && direction.causal())
            throw new IllegalArgumentException("linformer attention is bidirectional only (it cannot be causal)");
        if (positions == Positions.ROTARY && (width / heads) % 2 != 0)
            throw new IllegalArgumentException("rotary positions need an even head dimension, got D = "
                    + width / heads);
        if (!(dropout >= 0f && dropout < 1f))
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    }

    /** D = C / H. */
    public int headDim() { return width / heads; }

    /** Whether the model is causal (next-token) rather than bidirectional (masked). */
    public boolean causal() { return direction.causal(); }

    /**
     * The default small model (the command line's {@code performer train}): protein vocabulary,
     * L ≤ 256, 2 layers, width 128, 4 heads, ffn 256, FAVOR+ softmax with M = 64 orthogonal features
     * redrawn every 100 steps, bidirectional, learned positions, dropout 0.1.
     */
    public static ModelConfig small() {
        return new ModelConfig(Tokenizer.PROTEIN, Tokenizer.PROTEIN.vocabSize(), 256, 2, 128, 4, 256,
                new AttentionSpec.Favor(FeatureKind.SOFTMAX, 64, Projection.Type.ORTHOGONAL, Projection.Scaling.CHI,
                        100),
                Direction.BIDIRECTIONAL, Positions.LEARNED, 0.1f);
    }

    /** The paper's regular setting (its timing figure): 6 layers, width 512, 8 heads, ffn 2048, L ≤ 1024, M = 256. */
    public static ModelConfig paper() {
        return small().toBuilder().maxLen(1024).layers(6).width(512).heads(8).ffn(2048)
                .attention(((AttentionSpec.Favor) small().attention()).withM(256)).build();
    }

    /** The paper's small setting: 6 layers, width 64, 1 head, ffn 64, L ≤ 1024, M = 256. */
    public static ModelConfig paperSmall() {
        return paper().toBuilder().width(64).heads(1).ffn(64).build();
    }

    /** A builder starting from {@link #small()}. */
    public static Builder builder() { return small().toBuilder(); }

    /** A builder starting from this configuration. */
    public Builder toBuilder() { return new Builder(this); }

    public ModelConfig withAttention(AttentionSpec a) { return toBuilder().attention(a).build(); }
    public ModelConfig withDirection(Direction d) { return toBuilder().direction(d).build(); }
    public ModelConfig withMaxLen(int l) { return toBuilder().maxLen(l).build(); }

    /** A compact description for logs. */
    public String describe() {
        String favor = attention instanceof AttentionSpec.Favor f
                ? ", M=" + f.m() + " " + f.projection().name().toLowerCase(Locale.ROOT) : "";
        return String.format(Locale.ROOT,
                "%s %s, %d layers, width %d, %d heads, ffn %d, %s vocab %d, L<=%d%s, %s positions, dropout %.2f",
                attention.id(), causal() ? "causal" : "bidirectional", layers, width, heads, ffn, tokenizer.id(),
                vocab, maxLen, favor, positions.id(), dropout);
    }

    /** Changes one field at a time; {@link #build()} validates the whole. */
    public static final class Builder {
        private Tokenizer tokenizer;
        private int vocab, maxLen, layers, width, heads, ffn;
        private AttentionSpec attention;
        private Direction direction;
        private Positions positions;
        private float dropout;

        private Builder(ModelConfig c) {
            tokenizer = c.tokenizer; vocab = c.vocab; maxLen = c.maxLen; layers = c.layers; width = c.width;
            heads = c.heads; ffn = c.ffn;
            attention = c.attention; direction = c.direction; positions = c.positions; dropout = c.dropout;
        }

        /** The kind of data, and V = its vocabulary size. */
        public Builder tokenizer(Tokenizer t) { tokenizer = t; vocab = t.vocabSize(); return this; }
        public Builder vocab(int v) { vocab = v; return this; }
        public Builder maxLen(int l) { maxLen = l; return this; }
        public Builder layers(int n) { layers = n; return this; }
        public Builder width(int c) { width = c; return this; }
        public Builder heads(int h) { heads = h; return this; }
        public Builder ffn(int f) { ffn = f; return this; }
        public Builder attention(AttentionSpec a) { attention = a; return this; }
        public Builder direction(Direction d) { direction = d; return this; }
        public Builder positions(Positions p) { positions = p; return this; }
        public Builder dropout(float p) { dropout = p; return this; }

        public ModelConfig build() {
            return new ModelConfig(tokenizer, vocab, maxLen, layers, width, heads, ffn, attention, direction,
                    positions, dropout);
        }
    }
}
