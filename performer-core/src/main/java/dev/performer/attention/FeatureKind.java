package dev.performer.attention;

import java.util.Locale;

/**
 * The feature maps of FAVOR+ attention by name, each with the eps added inside its features by
 * default: 1e-6 for the softmax family (the golden files' convention), 1e-3 for the generalized
 * maps (the paper's ReLU kernel needs a floor so that no row of the denominator is zero).
 */
public enum FeatureKind {
    /** SM+: positive softmax features exp(wᵀx − |x|²/2). */
    SOFTMAX(1e-6f),
    /** SMhyp+: hyperbolic positive softmax features (2M features from M projections). */
    SOFTMAX_HYP(1e-6f),
    /** SM-trig: trigonometric softmax features (not positive; no eps). */
    SOFTMAX_TRIG(0f),
    /**
     * OPRF ("FAVOR++"): optimal positive softmax features, A per batch-head from its inputs when
     * bidirectional, fixed from D when causal ({@link FeatureMap#softmaxOpt(float)}).
     */
    SOFTMAX_OPT(1e-6f),
    /** Generalized attention with ReLU(wᵀx). */
    RELU(1e-3f),
    /** Generalized attention with ELU(wᵀx) + 1. */
    ELU(1e-3f),
    /** Generalized attention with exp(wᵀx). */
    EXP(1e-3f),
    /** Generalized attention with |wᵀx|. */
    ABS(1e-3f),
    /** Generalized attention with wᵀx itself (linear attention on random projections). */
    IDENTITY(1e-3f);

    private final float defaultEps;

    FeatureKind(float defaultEps) { this.defaultEps = defaultEps; }

    /** The eps this map uses unless told otherwise. */
    public float defaultEps() { return defaultEps; }

    /** The lower-case name with dashes: softmax, softmax-hyp, softmax-trig, softmax-opt, relu, elu, exp, abs, ... */
    public String id() { return name().toLowerCase(Locale.ROOT).replace('_', '-'); }

    /** The feature map with the default eps. */
    public FeatureMap map() { return map(defaultEps); }

    /** The feature map with the given eps (ignored by SM-trig). */
    public FeatureMap map(float eps) {
        return switch (this) {
            case SOFTMAX -> FeatureMap.softmax(eps);
            case SOFTMAX_HYP -> FeatureMap.softmaxHyp(eps);
            case SOFTMAX_TRIG -> FeatureMap.softmaxTrig();
            case SOFTMAX_OPT -> FeatureMap.softmaxOpt(eps);
            case RELU -> FeatureMap.relu(eps);
            case ELU -> FeatureMap.elu(eps);
            case EXP -> FeatureMap.exp(eps);
            case ABS -> FeatureMap.abs(eps);
            case IDENTITY -> FeatureMap.identity(eps);
        };
    }

    /** The kind of a name as {@link #id()} prints it; an unknown name is an IllegalArgumentException naming it. */
    public static FeatureKind of(String id) {
        for (FeatureKind k : values()) if (k.id().equals(id)) return k;
        throw new IllegalArgumentException("unknown feature map '" + id
                + "' (expected softmax, softmax-hyp, softmax-trig, softmax-opt, relu, elu, exp, abs or identity)");
    }
}
