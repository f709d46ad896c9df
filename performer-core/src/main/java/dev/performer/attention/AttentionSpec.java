package dev.performer.attention;

import dev.performer.kernel.Kernels;

/**
 * What attention a layer computes, as a value: the one factory of attention layers, used by the
 * model, the command line, the benchmarks and the checkpoint loader. {@link #id()} is the name the
 * command line and the checkpoints use ({@code exact}, {@code identity}, {@code favor-softmax},
 * {@code favor-relu}, ...); {@link #build} makes the layer for a head dimension and direction.
 */
public sealed interface AttentionSpec permits AttentionSpec.Exact, AttentionSpec.Identity, AttentionSpec.Favor {

    /** The name: exact, identity or favor-&lt;feature map&gt;. */
    String id();

    /**
     * The attention layer for heads of dimension D; seed draws its random parameters (FAVOR+
     * projections), if it has any.
     */
    Attention build(Kernels kern, int headDim, boolean causal, long seed);

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
        return switch (id) {
            case "exact" -> exact();
            case "identity" -> identity();
            default -> {
                if (!id.startsWith("favor-"))
                    throw new IllegalArgumentException("unknown attention '" + id
                            + "' (expected exact, identity or favor-<map>: favor-softmax, favor-relu, ...)");
                yield favor(FeatureKind.of(id.substring("favor-".length())), m);
            }
        };
    }
}
