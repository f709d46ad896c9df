package dev.performer.attention;

import dev.performer.kernel.Kernels;
import java.util.List;

/**
 * What attention a layer computes, as a value: the one factory of attention layers, used by the
 * model, the command line, the benchmarks and the checkpoint loader. {@link #id()} is the name the
 * command line and the checkpoints use ({@code exact}, {@code identity}, {@code favor-softmax},
 * {@code favor-relu}, ...); {@link #build} makes the layer for a head dimension and direction.
 */
public sealed interface AttentionSpec
        permits AttentionSpec.Exact, AttentionSpec.Identity, AttentionSpec.Favor, AttentionSpec.Linformer,
                AttentionSpec.Reformer {

    /** The name: exact, identity or favor-&lt;feature map&gt;. */
    String id();

    /**
     * The attention layer for heads of dimension D; seed draws its random parameters (FAVOR+
     * projections), if it has any.
     */
    Attention build(Kernels kern, int headDim, boolean causal, long seed);

    /** A learned tensor of one layer's attention: its name within the layer and its shape. */
    record Tensor(String name, int... shape) {
        public int size() {
            int n = 1;
            for (int x : shape) n *= x;
            return n;
        }
    }

    /** Where a layer's learned tensors live: the model's flat parameter and gradient buffers, an offset per tensor. */
    record Weights(float[] params, float[] grads, int[] offsets) {}

    /** The learned tensors of one layer's attention for a model of maxLen positions and H heads (none by default). */
    default List<Tensor> parameters(int maxLen, int heads) { return List.of(); }

    /** Draws the initial values of the learned tensors (nothing by default). */
    default void initialize(Weights w, int maxLen, int heads, long seed) {}

    /**
     * The attention layer of a model: heads of dimension D, maxLen positions, its learned tensors
     * (as {@link #parameters} lists them) in w. Attention without learned tensors ignores w.
     */
    default Attention build(Kernels kern, int headDim, int heads, int maxLen, boolean causal, long seed, Weights w) {
        return build(kern, headDim, causal, seed);
    }

    /** Exact softmax attention softmax(QKᵀ/√D)V: the Transformer's. */
    record Exact() implements AttentionSpec {
        @Override public String id() { return "exact"; }
        @Override public Attention build(Kernels kern, int headDim, boolean causal, long seed) {
            return new ExactAttention(kern, causal);
        }
    }

    /** Identity attention, the paper's 'X (OPT)' lower bound on cost: returns V. */
    record Identity() implements AttentionSpec {
        @Override public String id() { return "identity"; }
        @Override public Attention build(Kernels kern, int headDim, boolean causal, long seed) {
            return new IdentityAttention(causal);
        }
    }

    /**
     * FAVOR+ attention D⁻¹(φ(Q)(φ(K)ᵀV)) with M random features per head.
     *
     * @param features    kind of feature map φ (SM+, ReLU, ...), with its default eps
     * @param m           M, random features per head (≥ 1)
     * @param projection  orthogonal (block-orthogonal Gaussian rows) or IID Gaussian projections
     * @param scaling     row norms: χ(D)-distributed (unbiased for SM+) or √D
     * @param redrawEvery a model in training draws new projections every this many steps (0 = never)
     */
    record Favor(FeatureKind features, int m, Projection.Type projection, Projection.Scaling scaling, int redrawEvery)
            implements AttentionSpec {
        public Favor {
            if (features == null || projection == null || scaling == null)
                throw new IllegalArgumentException("FAVOR+ needs a feature map, a projection type and a scaling");
            if (m < 1) throw new IllegalArgumentException("FAVOR+ features M must be >= 1, got " + m);
            if (redrawEvery < 0)
                throw new IllegalArgumentException("FAVOR+ redraw period must be >= 0, got " + redrawEvery);
        }

        @Override public String id() { return "favor-" + features.id(); }

        @Override public FavorAttention build(Kernels kern, int headDim, boolean causal, long seed) {
            return FavorAttention.random(kern, features.map(), m, headDim, causal, projection, scaling, seed);
        }

        public Favor withM(int newM) { return new Favor(features, newM, projection, scaling, redrawEvery); }
        public Favor withProjection(Projection.Type type) { return new Favor(features, m, type, scaling, redrawEvery); }
        public Favor withRedrawEvery(int steps) { return new Favor(features, m, projection, scaling, steps); }
    }

    /**
     * Linformer (Wang et al. 2020): keys and values projected along the sequence to {@code projected}
     * rows by learned (P, k, maxLen) matrices E and F, P = 1 (shared by the heads of a layer) or H
     * (headwise): O(L·k) attention, bidirectional only, a fixed maximum length.
     */
    record Linformer(int projected, boolean headwise) implements AttentionSpec {
        public Linformer {
            if (projected < 1) throw new IllegalArgumentException("Linformer k must be >= 1, got " + projected);
        }

        @Override public String id() { return "linformer"; }

        @Override public Attention build(Kernels kern, int headDim, boolean causal, long seed) {
            throw new IllegalArgumentException("linformer attention has learned projections: build it with weights");
        }

        @Override public List<Tensor> parameters(int maxLen, int heads) {
            int p = headwise ? heads : 1;
            return List.of(new Tensor("e", p, projected, maxLen), new Tensor("f", p, projected, maxLen));
        }

        @Override public void initialize(Weights w, int maxLen, int heads, long seed) {
            int size = (headwise ? heads : 1) * projected * maxLen;
            LinformerAttention.init(w.params(), w.offsets()[0], size, projected, seed);
            LinformerAttention.init(w.params(), w.offsets()[1], size, projected, seed + 1);
        }

        @Override public Attention build(Kernels kern, int headDim, int heads, int maxLen, boolean causal, long seed,
                                         Weights w) {
            if (causal) throw new IllegalArgumentException("linformer attention cannot be causal");
            return new LinformerAttention(kern, projected, maxLen, heads, headwise, w.params(), w.offsets()[0],
                    w.offsets()[1], w.grads());
        }
    }

    /**
     * Reformer's LSH attention (Kitaev et al. 2020): shared query-key with normalised keys, random-rotation
     * hashing into {@code buckets} buckets, {@code rounds} hashing rounds combined by log-sum-exp, sorted by
     * bucket and position into chunks of {@code chunk} that attend to themselves and the previous chunk.
     */
    record Reformer(int buckets, int rounds, int chunk) implements AttentionSpec {
        public Reformer {
            if (buckets < 1 || (buckets > 1 && buckets % 2 != 0))
                throw new IllegalArgumentException("LSH buckets must be 1 or an even number >= 2, got " + buckets);
            if (rounds < 1) throw new IllegalArgumentException("LSH rounds must be >= 1, got " + rounds);
            if (chunk < 1) throw new IllegalArgumentException("LSH chunk must be >= 1, got " + chunk);
        }

        @Override public String id() { return "reformer"; }

        @Override public Attention build(Kernels kern, int headDim, boolean causal, long seed) {
            return new LshAttention(kern, causal, buckets, rounds, chunk, seed);
        }
    }

    /**
     * A standalone layer (benchmarks, tests, the command line's attention runs): its learned tensors, if any,
     * in buffers of its own, drawn from seed.
     */
    default Attention buildStandalone(Kernels kern, int headDim, int heads, int maxLen, boolean causal, long seed) {
        List<Tensor> ts = parameters(maxLen, heads);
        int[] off = new int[ts.size()];
        long total = 0;
        for (int i = 0; i < off.length; i++) {
            off[i] = (int) total;
            total += ts.get(i).size();
        }
        if (total > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(id() + ": too many parameters");
        Weights w = new Weights(new float[(int) total], new float[(int) total], off);
        initialize(w, maxLen, heads, seed);
        return build(kern, headDim, heads, maxLen, causal, seed, w);
    }

    /** Exact attention. */
    static AttentionSpec exact() { return new Exact(); }

    /** Identity attention ('X (OPT)'). */
    static AttentionSpec identity() { return new Identity(); }

    /** FAVOR+ with M orthogonal features of the given kind, χ(D) row norms, never redrawn. */
    static Favor favor(FeatureKind features, int m) {
        return new Favor(features, m, Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, 0);
    }

    /**
     * The attention of a command-line name (exact, identity, favor-softmax, favor-relu, ...); FAVOR+
     * gets M orthogonal features, χ(D) norms and no redraw (change them with the Favor withers).
     */
    static AttentionSpec of(String id, int m) {
        return of(id, m, 0);
    }

    /**
     * As {@link #of(String, int)}, and the baselines for sequences of L tokens: linformer with k = L/4
     * (one projection per layer), reformer with chunks of 64, 2·L/64 buckets and 2 rounds.
     */
    static AttentionSpec of(String id, int m, int l) {
        return switch (id) {
            case "linformer", "reformer" -> {
                if (l < 1) throw new IllegalArgumentException(id + " needs the sequence length for its defaults");
                yield id.equals("linformer") ? new Linformer(Math.max(1, l / 4), false)
                        : new Reformer(Math.max(2, 2 * ((l + 63) / 64)), 2, 64);
            }
            case "exact" -> exact();
            case "identity" -> identity();
            default -> {
                if (!id.startsWith("favor-"))
                    throw new IllegalArgumentException("unknown attention '" + id
                            + "' (expected exact, identity, linformer, reformer or favor-<map>: favor-softmax, "
                            + "favor-relu, ...)");
                yield favor(FeatureKind.of(id.substring("favor-".length())), m);
            }
        };
    }
}
