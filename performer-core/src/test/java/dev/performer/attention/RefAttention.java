package dev.performer.attention;

/**
 * An independent double-precision reference: the formulas of the documented convention written
 * out naively (O(L²·M·D)), with no chunking, no GEMM and no shared code with the float path.
 * Stabilizers are passed in so that finite differences can hold them constant, as the float
 * backward does; so is OPRF's A per batch-head (the third array of {@link #stabilizers}), which the
 * reference finds by minimising the mean log second moment numerically (golden-section search),
 * not by the closed form the float path uses.
 */
final class RefAttention {

    enum Map { SOFTMAX, HYP, TRIG, OPRF, RELU, ELU, EXP, ABS, IDENTITY, SOFTPLUS }

    final Map map;
    final double eps;
    final double[] w; // (M×D) or null (no projection)
    final int m, d;
    /** OPRF: A for every head, or NaN (bidirectional: from the head's inputs; causal: at ρ = 2/√D). */
    double fixedA = Double.NaN;
    private double a; // OPRF: the A of the batch-head being evaluated

    RefAttention(Map map, double eps, float[] w, int m, int d) {
        this.map = map; this.eps = eps; this.m = m; this.d = d;
        if (w == null) this.w = null;
        else { this.w = new double[w.length]; for (int i = 0; i < w.length; i++) this.w[i] = w[i]; }
    }

    int mf() {
        if (w == null) return d;
        return (map == Map.HYP || map == Map.TRIG) ? 2 * m : m;
    }

    /** u = x~ Wᵀ (or x~ itself without projection) for one row. */
    double[] u(double[] x, int off) {
        double s = Math.pow(d, -0.25);
        if (w == null) { double[] u = new double[d]; for (int c = 0; c < d; c++) u[c] = s * x[off + c]; return u; }
        double[] u = new double[m];
        double b = map == Map.OPRF ? Math.sqrt(1 - 4 * a) : 1;
        for (int j = 0; j < m; j++) {
            double dot = 0, n2 = 0;
            for (int c = 0; c < d; c++) { dot += s * x[off + c] * w[j * d + c]; n2 += w[j * d + c] * w[j * d + c]; }
            // OPRF: u' = B·x~·w + A|w|² + (D/4)·log(1 − 4A)
            u[j] = map == Map.OPRF ? b * dot + a * n2 + 0.25 * d * Math.log(1 - 4 * a) : dot;
        }
        return u;
    }

    double halfNorm(double[] x, int off) {
        double s2 = 1.0 / Math.sqrt(d), a = 0;
        for (int c = 0; c < d; c++) a += x[off + c] * x[off + c];
        return 0.5 * s2 * a;
    }

    /** The stabilizer candidates of one row: u (SM+) or ±u (SMhyp+). */
    double rowMax(double[] x, int off) {
        double[] u = u(x, off);
        double mx = Double.NEGATIVE_INFINITY;
        for (double a : u) mx = Math.max(mx, map == Map.HYP ? Math.abs(a) : a);
        return mx;
    }

    /** φ(x) for one row with stabilizer c (used by SM+ and SMhyp+ only). */
    double[] phi(double[] x, int off, double c) {
        double[] u = u(x, off);
        int mf = mf();
        double[] p = new double[mf];
        double n = halfNorm(x, off);
        switch (map) {
            case SOFTMAX, OPRF -> {
                double r = 1 / Math.sqrt(m);
                for (int j = 0; j < m; j++) p[j] = r * (Math.exp(u[j] - n - c) + eps);
            }
            case HYP -> {
                double r = 1 / Math.sqrt(2.0 * m);
                for (int j = 0; j < m; j++) {
                    p[j] = r * (Math.exp(u[j] - n - c) + eps);
                    p[m + j] = r * (Math.exp(-u[j] - n - c) + eps);
                }
            }
            case TRIG -> {
                double r = Math.exp(n) / Math.sqrt(m);
                for (int j = 0; j < m; j++) { p[j] = r * Math.sin(u[j]); p[m + j] = r * Math.cos(u[j]); }
            }
            default -> {
                for (int j = 0; j < mf; j++) {
                    p[j] = f(u[j]) + eps;
                    minAbsU = Math.min(minAbsU, Math.abs(u[j]));
                    maxAbsU = Math.max(maxAbsU, Math.abs(u[j]));
                }
            }
        }
        return p;
    }

    /** The smallest and largest |u| the plain maps saw (ReLU's kink is at u = 0). */
    double minAbsU = Double.POSITIVE_INFINITY, maxAbsU = 0;

    double f(double a) {
        return switch (map) {
            case RELU -> Math.max(a, 0);
            case ELU -> a > 0 ? a + 1 : Math.exp(a);
            case EXP -> Math.exp(a);
            case ABS -> Math.abs(a);
            case IDENTITY -> a;
            case SOFTPLUS -> Math.log1p(Math.exp(a));
            default -> throw new IllegalStateException();
        };
    }

    boolean stabilized() { return map == Map.SOFTMAX || map == Map.HYP || map == Map.OPRF; }

    /** Stabilizers at these inputs: per query row (B·H·Lq) and per batch-head for keys (B·H). */
    double[][] stabilizers(Dims dims, double[] q, double[] k) { return stabilizers(dims, q, k, null, false); }

    /**
     * Stabilizers (per query row, per batch-head for keys) and, third, OPRF's A per batch-head: fixedA if
     * set, else for causal attention the minimiser at ρ = 2/√D, else at ρ = mean over the head's query rows
     * and unmasked keys of |x~_i + y~_j|² / D (all pairs, O(L²)).
     */
    double[][] stabilizers(Dims dims, double[] q, double[] k, double[] mask, boolean causal) {
        double[] cq = new double[dims.bh() * dims.lq()], ck = new double[dims.bh()], as = new double[dims.bh()];
        if (!stabilized()) return new double[][]{cq, ck, as};
        for (int bh = 0; bh < dims.bh(); bh++) {
            if (map == Map.OPRF) {
                if (!Double.isNaN(fixedA)) as[bh] = fixedA;
                else if (causal) as[bh] = minimiseA(2 / Math.sqrt(d));
                else as[bh] = minimiseA(pairRho(dims, q, k, mask, bh));
                a = as[bh];
            }
            for (int i = 0; i < dims.lq(); i++) cq[bh * dims.lq() + i] = rowMax(q, (bh * dims.lq() + i) * d);
            double mx = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < dims.lk(); j++) mx = Math.max(mx, rowMax(k, (bh * dims.lk() + j) * d));
            ck[bh] = mx;
        }
        return new double[][]{cq, ck, as};
    }

    /** mean over (query, unmasked key) pairs of |x~_i + y~_j|², divided by D, for one batch-head. */
    double pairRho(Dims dims, double[] q, double[] k, double[] mask, int bh) {
        int lq = dims.lq(), lk = dims.lk(), b = bh / dims.heads();
        double s2 = 1 / Math.sqrt(d), sum = 0;
        long pairs = 0;
        for (int i = 0; i < lq; i++)
            for (int j = 0; j < lk; j++) {
                if (mask != null && mask[b * lk + j] == 0) continue;
                double n = 0;
                for (int c = 0; c < d; c++) {
                    double t = q[(bh * lq + i) * d + c] + k[(bh * lk + j) * d + c];
                    n += t * t;
                }
                sum += s2 * n;
                pairs++;
            }
        return sum / pairs / d;
    }

    /** argmin over A &lt; 1/8 of log(1−4A) − ½·log(1−8A) + ρ/(1−8A), by golden-section search (convex there). */
    static double minimiseA(double rho) {
        java.util.function.DoubleUnaryOperator g =
                x -> Math.log(1 - 4 * x) - 0.5 * Math.log(1 - 8 * x) + rho / (1 - 8 * x);
        double lo = -20, hi = 0.125 - 1e-12, r = (Math.sqrt(5) - 1) / 2;
        for (int it = 0; it < 200; it++) {
            double x1 = hi - r * (hi - lo), x2 = lo + r * (hi - lo);
            if (g.applyAsDouble(x1) < g.applyAsDouble(x2)) hi = x2; else lo = x1;
        }
        return (lo + hi) / 2;
    }

    /** FAVOR+ forward; stab from {@link #stabilizers} (held constant under finite differences). */
    double[] forward(Dims dims, double[] q, double[] k, double[] v, double[] mask, boolean causal, double[][] stab) {
        int lq = dims.lq(), lk = dims.lk();
        double[] out = new double[dims.qSize()];
        for (int bh = 0; bh < dims.bh(); bh++) {
            int b = bh / dims.heads();
            if (map == Map.OPRF) a = stab[2][bh];
            double[][] pk = new double[lk][];
            for (int j = 0; j < lk; j++) pk[j] = phi(k, (bh * lk + j) * d, stab[1][bh]);
            for (int i = 0; i < lq; i++) {
                double[] pq = phi(q, (bh * lq + i) * d, stab[0][bh * lq + i]);
                double den = 0;
                double[] num = new double[d];
                for (int j = 0; j < lk; j++) {
                    if (causal && j > i) continue;
                    if (mask != null && mask[b * lk + j] == 0) continue;
                    double a = 0;
                    for (int f = 0; f < pq.length; f++) a += pq[f] * pk[j][f];
                    den += a;
                    for (int c = 0; c < d; c++) num[c] += a * v[(bh * lk + j) * d + c];
                }
                for (int c = 0; c < d; c++) out[(bh * lq + i) * d + c] = den == 0 ? 0 : num[c] / den;
            }
        }
        return out;
    }

    /** Exact softmax attention in double. */
    static double[] exact(Dims dims, double[] q, double[] k, double[] v, double[] mask, boolean causal) {
        int lq = dims.lq(), lk = dims.lk(), d = dims.dim();
        double[] out = new double[dims.qSize()];
        for (int bh = 0; bh < dims.bh(); bh++) {
            int b = bh / dims.heads();
            for (int i = 0; i < lq; i++) {
                double[] sc = new double[lk];
                double mx = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    boolean vis = !(causal && j > i) && !(mask != null && mask[b * lk + j] == 0);
                    if (!vis) { sc[j] = Double.NaN; continue; }
                    double a = 0;
                    for (int c = 0; c < d; c++) a += q[(bh * lq + i) * d + c] * k[(bh * lk + j) * d + c];
                    sc[j] = a / Math.sqrt(d);
                    mx = Math.max(mx, sc[j]);
                }
                double z = 0;
                double[] num = new double[d];
                for (int j = 0; j < lk; j++) {
                    if (Double.isNaN(sc[j])) continue;
                    double e = Math.exp(sc[j] - mx);
                    z += e;
                    for (int c = 0; c < d; c++) num[c] += e * v[(bh * lk + j) * d + c];
                }
                for (int c = 0; c < d; c++) out[(bh * lq + i) * d + c] = z == 0 ? 0 : num[c] / z;
            }
        }
        return out;
    }
}
