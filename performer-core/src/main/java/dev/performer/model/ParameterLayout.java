package dev.performer.model;

import dev.performer.attention.AttentionSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named views into one flat parameter buffer (and, at the same offsets, the gradient and the
 * optimizer state buffers). Shapes, in the order laid out:
 * <pre>
 *   wte (V, C)                token embedding, also the output layer (tied)
 *   wpe (L, C)                learned positions (absent with sinusoidal positions)
 *   per layer i, "h{i}.":
 *     ln1.g (C), ln1.b (C)
 *     qkv.w (C, 3C), qkv.b (3C)     columns: q | k | v, each split into H heads of D
 *     proj.w (C, C), proj.b (C)     attention output projection
 *     ln2.g (C), ln2.b (C)
 *     fc.w (C, F), fc.b (F)
 *     fcproj.w (F, C), fcproj.b (C)
 *     att.* (...)                   the attention's own learned tensors, if any (Linformer: att.e, att.f)
 *   lnf.g (C), lnf.b (C)
 * </pre>
 * Matrices are row-major (in, out): y = x·W + b.
 */
public final class ParameterLayout {

    /** One tensor: where it starts in the flat buffer and its shape. */
    public record View(String name, int offset, int[] shape) {
        public int size() { int n = 1; for (int s : shape) n *= s; return n; }
    }

    private final Map<String, View> views = new LinkedHashMap<>();
    private int total;

    public ParameterLayout(ModelConfig c) {
        int v = c.vocab(), w = c.width(), f = c.ffn();
        add("wte", v, w);
        if (c.positions() == Positions.LEARNED) add("wpe", c.maxLen(), w);
        for (int i = 0; i < c.layers(); i++) {
            String p = "h" + i + ".";
            add(p + "ln1.g", w); add(p + "ln1.b", w);
            add(p + "qkv.w", w, 3 * w); add(p + "qkv.b", 3 * w);
            add(p + "proj.w", w, w); add(p + "proj.b", w);
            add(p + "ln2.g", w); add(p + "ln2.b", w);
            add(p + "fc.w", w, f); add(p + "fc.b", f);
            add(p + "fcproj.w", f, w); add(p + "fcproj.b", w);
            for (AttentionSpec.Tensor t : c.attention().parameters(c.maxLen(), c.heads()))
                add(p + "att." + t.name(), t.shape());
        }
        add("lnf.g", w); add("lnf.b", w);
    }

    private void add(String name, int... shape) {
        View view = new View(name, total, shape);
        long next = (long) total + view.size();
        if (next > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("model has more than 2^31 parameters");
        views.put(name, view);
        total = (int) next;
    }

    public int total() { return total; }

    public View get(String name) {
        View v = views.get(name);
        if (v == null) throw new IllegalArgumentException("no parameter named " + name);
        return v;
    }

    public int offset(String name) { return get(name).offset(); }

    public boolean has(String name) { return views.containsKey(name); }

    public List<View> views() { return Collections.unmodifiableList(new ArrayList<>(views.values())); }
}
