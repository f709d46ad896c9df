package dev.performer.train;

import dev.performer.model.ParameterLayout;

/**
 * AdamW (decoupled weight decay) over flat buffers. State: m, v (same layout as the parameters)
 * and the step count t. Weight decay applies to matrices (embeddings and ".w" weights), not to
 * biases or LayerNorm parameters.
 */
public final class AdamW {

    final float[] m, v;
    private final boolean[] decay; // per view: whether it is decayed
    private final int[] viewStart, viewEnd;
    long t;

    public AdamW(ParameterLayout layout) {
        this.m = new float[layout.total()];
        this.v = new float[layout.total()];
        var views = layout.views();
        decay = new boolean[views.size()];
        viewStart = new int[views.size()];
        viewEnd = new int[views.size()];
        for (int i = 0; i < views.size(); i++) {
            String n = views.get(i).name();
            decay[i] = n.endsWith(".w") || n.equals("wte") || n.equals("wpe");
            viewStart[i] = views.get(i).offset();
            viewEnd[i] = views.get(i).offset() + views.get(i).size();
        }
    }

    /** One update: p -= lr·(m̂/(√v̂ + eps) + wd·p) with bias-corrected moments. */
    public void step(float[] p, float[] g, float lr, float beta1, float beta2, float eps, float weightDecay) {
        t++;
        double c1 = 1 - Math.pow(beta1, t), c2 = 1 - Math.pow(beta2, t);
        for (int vi = 0; vi < decay.length; vi++) {
            float wd = decay[vi] ? weightDecay : 0f;
            for (int i = viewStart[vi]; i < viewEnd[vi]; i++) {
                float gi = g[i];
                m[i] = beta1 * m[i] + (1 - beta1) * gi;
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
                double mh = m[i] / c1, vh = v[i] / c2;
                p[i] -= (float) (lr * (mh / (Math.sqrt(vh) + eps) + wd * p[i]));
            }
        }
    }

    public long steps() { return t; }
    public float[] firstMoment() { return m; }
    public float[] secondMoment() { return v; }
}
