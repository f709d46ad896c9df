package dev.performer.cli;

import dev.performer.attention.FeatureKind;
import java.util.Set;
import java.util.TreeSet;

/** The attention methods the benchmarks and the demo accept, by their command-line names. */
final class Methods {

    private Methods() {}

    /** exact, identity (the paper's 'X (OPT)') and favor-&lt;map&gt; for every feature map (AttentionSpec.of names). */
    static final Set<String> METHODS = names();

    private static Set<String> names() {
        Set<String> s = new TreeSet<>(Set.of("exact", "identity", "linformer", "reformer"));
        for (FeatureKind k : FeatureKind.values()) s.add("favor-" + k.id());
        return Set.copyOf(s);
    }
}
