package dev.performer.train;

import dev.performer.model.ParameterLayout;

/**
 * AdamW (decoupled weight decay) over flat buffers. State: m, v (same layout as the parameters)
 * and the step count t. Weight decay applies to matrices (embeddings and ".w" weights), not to
 * biases or LayerNorm parameters.
 */
public final class AdamW {

    /**
     * AdamW's hyper-parameters. Validates itself.
     *
     * @param lr          peak learning rate (a schedule scales it per step)
     * @param beta1       first-moment decay, in [0, 1)
     * @param beta2       second-moment decay, in [0, 1)
     * @param eps         denominator guard, > 0
     * @param weightDecay decoupled weight decay of the matrices, ≥ 0
     */
    public record Config(float lr, float beta1, float beta2, float eps, float weightDecay) {
        public Config {
            if (!(lr > 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("lr must be > 0, got " + lr);
            if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
            if (!(eps > 0) || !Float.isFinite(eps)) throw new IllegalArgumentException("eps must be > 0, got " + eps);
            if (!(weightDecay >= 0) || !Float.isFinite(weightDecay))
                throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }

        /** lr 1e-3, beta1 0.9, beta2 0.98, eps 1e-8, weight decay 0.01. */
        public static Config defaults() { return new Config(1e-3f, 0.9f, 0.98f, 1e-8f, 0.01f); }

        public Config withLr(float x) { return new Config(x, beta1, beta2, eps, weightDecay); }
        public Config withBetas(float b1, float b2) { return new Config(lr, b1, b2, eps, weightDecay); }
        public Config withEps(float x) { return new Config(lr, beta1, beta2, x, weightDecay); }
        public Config withWeightDecay(float x) { return new Config(lr, beta1, beta2, eps, x); }
    }

    private final Config cfg;
    final float[] m, v;
    private final boolean[] decay; // per view: whether it is decayed
    private final int[] viewStart, viewEnd;
    long t;

    public AdamW(ParameterLayout layout, Config cfg) {
        this.cfg = cfg;
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

    public Config config() { return cfg; }

    /** One update at learning rate lr: p -= lr·(m̂/(√v̂ + eps) + wd·p) with bias-corrected moments. */
    public void step(float[] p, float[] g, float lr) {
        float beta1 = cfg.beta1(), beta2 = cfg.beta2(), eps = cfg.eps(), weightDecay = cfg.weightDecay();
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

    /** Sets the update count (bias correction) of a state assembled elsewhere (averaged moments of local SGD). */
    public void steps(long updates) {
        if (updates < 0) throw new IllegalArgumentException("updates must be >= 0, got " + updates);
        t = updates;
    }
    public float[] firstMoment() { return m; }
    public float[] secondMoment() { return v; }
}
