package dev.performer.model;

import dev.performer.attention.AttentionSpec;
import dev.performer.attention.Dims;
import dev.performer.attention.FeatureKind;

/**
 * The same Transformer written out naively in double precision, independent of the float code
 * (its attention is the test suite's {@code RefAttention}). Used to check the float model's loss and, through
 * finite differences, its hand-written backward.
 */
final class RefModel {

    final ModelConfig cfg;
    final ParameterLayout layout;
    final float[][] proj;      // per layer FAVOR+ projection (M×D) or null
    final float[] sinusoid;
    /** Dropout of a training forward: its seed, or null for none (evaluation). */
    Long dropoutSeed;

    RefModel(PerformerModel m) {
        this.cfg = m.config();
        this.layout = m.layout();
        this.proj = new float[cfg.layers()][];
        for (int l = 0; l < cfg.layers(); l++) proj[l] = m.projection(l);
        this.sinusoid = cfg.positions() == Positions.SINUSOIDAL
                ? PerformerModel.sinusoid(cfg.maxLen(), cfg.width()) : null;
    }

    /** After a recording loss: min over layers of min |u| / max |u| of the ReLU features' arguments. */
    double kinkMargin = Double.POSITIVE_INFINITY;

    /** stabs[l] holds the FAVOR+ stabilizers of layer l; computed and stored when record, reused otherwise. */
    double loss(double[] p, int[] tok, int[] tgt, int b, int t, double[] mask, double[][][] stabs, boolean record) {
        int n = b * t, c = cfg.width(), f = cfg.ffn(), h = cfg.heads(), d = cfg.headDim(), vocab = cfg.vocab();
        double[] x = new double[n * c];
        int wte = layout.offset("wte");
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
                x[i * c + j] = p[wte + tok[i] * c + j] + (sinusoid != null ? sinusoid[(i % t) * c + j]
                        : layout.has("wpe") ? p[layout.offset("wpe") + (i % t) * c + j] : 0);
        Dims dims = Dims.self(b, h, t, d);
        for (int l = 0; l < cfg.layers(); l++) {
            String pre = "h" + l + ".";
            double[] a = ln(x, p, layout.offset(pre + "ln1.g"), layout.offset(pre + "ln1.b"), n, c);
            double[] qkv = lin(a, p, layout.offset(pre + "qkv.w"), layout.offset(pre + "qkv.b"), n, c, 3 * c);
            double[] q = new double[n * c], k = new double[n * c], v = new double[n * c];
            for (int bi = 0; bi < b; bi++) for (int ti = 0; ti < t; ti++)
                for (int hi = 0; hi < h; hi++) for (int e = 0; e < d; e++) {
                    int src = (bi * t + ti) * 3 * c + hi * d + e, dst = ((bi * h + hi) * t + ti) * d + e;
                    q[dst] = qkv[src]; k[dst] = qkv[src + c]; v[dst] = qkv[src + 2 * c];
                }
            if (cfg.positions() == Positions.ROTARY) { rotary(q, b * h, t, d); rotary(k, b * h, t, d); }
            double[] o;
            switch (cfg.attention()) {
                case AttentionSpec.Exact e ->
                        o = dev.performer.attention.RefAttentionAccess.exact(dims, q, k, v, mask, cfg.causal());
                case AttentionSpec.Identity i -> o = v;
                case AttentionSpec.Favor fav -> {
                    if (fav.features() != FeatureKind.SOFTMAX && fav.features() != FeatureKind.RELU)
                        throw new IllegalArgumentException("the reference model has SM+ and ReLU features only");
                    boolean relu = fav.features() == FeatureKind.RELU;
                    var ref = dev.performer.attention.RefAttentionAccess.favor(relu, relu ? 1e-3 : 1e-6,
                            proj[l], fav.m(), d);
                    if (record) stabs[l] = dev.performer.attention.RefAttentionAccess.stabilizers(ref, dims, q, k);
                    o = dev.performer.attention.RefAttentionAccess.forward(ref, dims, q, k, v, mask,
                            cfg.causal(), stabs[l]);
                    if (record)
                        kinkMargin = Math.min(kinkMargin, dev.performer.attention.RefAttentionAccess.kinkMargin(ref));
                }
                // the baselines are checked at the operator level (LinformerAttentionTest, LshAttentionTest)
                case AttentionSpec.Linformer lin -> throw new IllegalArgumentException("no Linformer reference model");
                case AttentionSpec.Reformer ref -> throw new IllegalArgumentException("no Reformer reference model");
            }
            double[] merged = new double[n * c];
            for (int bi = 0; bi < b; bi++) for (int ti = 0; ti < t; ti++)
                for (int hi = 0; hi < h; hi++) for (int e = 0; e < d; e++)
                    merged[(bi * t + ti) * c + hi * d + e] = o[((bi * h + hi) * t + ti) * d + e];
            double[] pr = lin(merged, p, layout.offset(pre + "proj.w"), layout.offset(pre + "proj.b"), n, c, c);
            drop(pr, l, 0);
            for (int i = 0; i < n * c; i++) x[i] += pr[i];
            double[] a2 = ln(x, p, layout.offset(pre + "ln2.g"), layout.offset(pre + "ln2.b"), n, c);
            double[] fc = lin(a2, p, layout.offset(pre + "fc.w"), layout.offset(pre + "fc.b"), n, c, f);
            for (int i = 0; i < fc.length; i++) {
                double u = Math.sqrt(2 / Math.PI) * (fc[i] + 0.044715 * fc[i] * fc[i] * fc[i]);
                fc[i] = 0.5 * fc[i] * (1 + Math.tanh(u));
            }
            double[] fp = lin(fc, p, layout.offset(pre + "fcproj.w"), layout.offset(pre + "fcproj.b"), n, f, c);
            drop(fp, l, 1);
            for (int i = 0; i < n * c; i++) x[i] += fp[i];
        }
        double[] y = ln(x, p, layout.offset("lnf.g"), layout.offset("lnf.b"), n, c);
        double loss = 0;
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (tgt[i] < 0) continue;
            double[] logit = new double[vocab];
            double mx = Double.NEGATIVE_INFINITY;
            for (int vv = 0; vv < vocab; vv++) {
                double s = 0;
                for (int j = 0; j < c; j++) s += y[i * c + j] * p[wte + vv * c + j];
                logit[vv] = s;
                mx = Math.max(mx, s);
            }
            double z = 0;
            for (double lg : logit) z += Math.exp(lg - mx);
            loss += -(logit[tgt[i]] - mx - Math.log(z));
            count++;
        }
        return count == 0 ? 0 : loss / count;
    }

    /** Rotary positions: pair (2i, 2i+1) of row t of every head turned by t·10000^(−2i/D), angles in double. */
    static void rotary(double[] x, int bh, int t, int d) {
        for (int r = 0; r < bh; r++)
            for (int ti = 0; ti < t; ti++)
                for (int i = 0; i < d / 2; i++) {
                    double ang = ti * Math.pow(10000, -2.0 * i / d), cs = Math.cos(ang), sn = Math.sin(ang);
                    int o = (r * t + ti) * d + 2 * i;
                    double a = x[o], bb = x[o + 1];
                    x[o] = a * cs - bb * sn;
                    x[o + 1] = a * sn + bb * cs;
                }
    }

    /** Inverted dropout with the model's mask (the mask is an input here, like the projections). */
    void drop(double[] y, int layer, int site) {
        if (dropoutSeed == null || cfg.dropout() == 0f) return;
        double scale = 1.0 / (1.0 - cfg.dropout());
        for (int i = 0; i < y.length; i++)
            y[i] = PerformerModel.dropoutKeeps(dropoutSeed, cfg.dropout(), layer, site, i) ? y[i] * scale : 0;
    }

    static double[] ln(double[] x, double[] p, int g, int bb, int n, int c) {
        double[] out = new double[n * c];
        for (int i = 0; i < n; i++) {
            double m = 0, v = 0;
            for (int j = 0; j < c; j++) m += x[i * c + j];
            m /= c;
            for (int j = 0; j < c; j++) v += (x[i * c + j] - m) * (x[i * c + j] - m);
            double rs = 1 / Math.sqrt(v / c + 1e-5);
            for (int j = 0; j < c; j++) out[i * c + j] = (x[i * c + j] - m) * rs * p[g + j] + p[bb + j];
        }
        return out;
    }

    static double[] lin(double[] in, double[] p, int w, int bb, int n, int i, int o) {
        double[] out = new double[n * o];
        for (int r = 0; r < n; r++)
            for (int cc = 0; cc < o; cc++) {
                double s = p[bb + cc];
                for (int j = 0; j < i; j++) s += in[r * i + j] * p[w + j * o + cc];
                out[r * o + cc] = s;
            }
        return out;
    }
}
