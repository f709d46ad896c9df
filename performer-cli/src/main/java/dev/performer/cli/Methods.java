package dev.performer.cli;

import dev.performer.attention.Attention;
import dev.performer.attention.ExactAttention;
import dev.performer.attention.FavorAttention;
import dev.performer.attention.FeatureMap;
import dev.performer.attention.IdentityAttention;
import dev.performer.attention.Projection;
import dev.performer.kernel.Kernels;
import java.util.Set;

/** Attention methods by their command-line names. */
final class Methods {

    private Methods() {}

    /** Bench/demo method names: exact, favor-&lt;map&gt;, identity (the paper's 'X (OPT)'). */
    static final Set<String> METHODS = Set.of("exact", "favor-softmax", "favor-softmax-hyp", "favor-softmax-trig",
            "favor-relu", "favor-elu", "favor-exp", "favor-abs", "identity");

    /** Default eps inside the features: 1e-6 for the softmax family (golden convention), 1e-3 for generalized maps. */
    static float defaultEps(String map) {
        return map.startsWith("softmax") ? 1e-6f : 1e-3f;
    }

    static Attention build(String method, Kernels kern, int m, int d, boolean causal, long seed) {
        if (method.equals("exact")) return new ExactAttention(kern, causal);
        if (method.equals("identity")) return new IdentityAttention(causal);
        if (!method.startsWith("favor-")) throw new UsageException("unknown method '" + method + "'");
        String map = method.substring("favor-".length());
        return FavorAttention.random(kern, FeatureMap.byName(map, defaultEps(map)), m, d, causal,
                Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, seed);
    }
}
