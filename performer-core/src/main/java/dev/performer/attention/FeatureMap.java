package dev.performer.attention;

import dev.performer.kernel.ElementwiseOp;
import dev.performer.kernel.Kernels;

/**
 * A random-feature map φ: R^D → R^Mf and its backward, for one batch-head at a time.
 *
 * <p>With s = D^-1/4, x~ = s·x, u = x~ Wᵀ (rows×M), ratio = M^-1/2 and n = |x~|²/2:
 * <ul>
 *   <li>{@link Kind#SOFTMAX} (SM+, positive): φ = ratio·(exp(u − n − c) + eps), Mf = M. The
 *       stabilizer c is the row max of u for queries and the max over all rows for keys.</li>
 *   <li>{@link Kind#SOFTMAX_HYP} (SMhyp+): φ = ratio/√2·([exp(u − n − c), exp(−u − n − c)] + eps),
 *       Mf = 2M, c the max over ±u as above.</li>
 *   <li>{@link Kind#SOFTMAX_TRIG} (SM-trig): φ = ratio·exp(n)·[sin u, cos u], Mf = 2M; no
 *       stabilizer and no eps (the features are signed).</li>
 *   <li>{@link Kind#SOFTMAX_OPT} (OPRF, "FAVOR++", Likhosherstov et al. 2022): with a parameter
 *       A &lt; 1/8, B = √(1 − 4A) and D' = (1 − 4A)^(D/4), φ = ratio·(exp(u' − n − c) + eps) where
 *       u' = B·x~ Wᵀ + A·|w_m|² + log D'. It is SM+ with the projection B·W and a per-feature bias, so
 *       the same stabilizers and the same backward apply ({@link #prepare} builds the pair). A = 0 is
 *       SM+. E[φ(x)·φ(y)] = exp(x~·y~) for every A &lt; 1/4; the variance is finite for A &lt; 1/8 and
 *       least, averaged over the query-key pairs of a head, at A* = {@link #optimalA}(ρ) with
 *       ρ = mean |x~_i + y~_j|² / D ({@link #rho}). Adaptive maps take A* per batch-head from
 *       that head's queries and keys (bidirectional attention only: ρ sees every key); causal
 *       attention and the recurrent decoder use {@link #fixedA}, from the configuration.</li>
 *   <li>{@link Kind#GENERALIZED}: φ = f(u) + eps, Mf = M; without projection u = x~, Mf = D.</li>
 * </ul>
 * E[φ(x)·φ(y)] = exp(x~·y~) for the four softmax maps (up to the stabilizers, which cancel in
 * attention, and eps). Backward treats c (and OPRF's A) as constants.
 */
public final class FeatureMap {

    public enum Kind { SOFTMAX, SOFTMAX_HYP, SOFTMAX_TRIG, SOFTMAX_OPT, GENERALIZED }

    /** A user-supplied scalar function for generalized attention. */
    @FunctionalInterface
    public interface ScalarFunction { float apply(float x); }

    private final Kind kind;
    private final String name;
    private final float eps;
    private final boolean projected;
    private final ElementwiseOp op, grad;          // generalized with a SIMD map
    private final ScalarFunction fn, dfn;          // generalized with a user function
    private final double fixedA;                   // OPRF: A everywhere, or NaN (adaptive when bidirectional)

    private FeatureMap(Kind kind, String name, float eps, boolean projected,
                       ElementwiseOp op, ElementwiseOp grad, ScalarFunction fn, ScalarFunction dfn) {
        this(kind, name, eps, projected, op, grad, fn, dfn, Double.NaN);
    }

    private FeatureMap(Kind kind, String name, float eps, boolean projected,
                       ElementwiseOp op, ElementwiseOp grad, ScalarFunction fn, ScalarFunction dfn, double fixedA) {
        if (!(eps >= 0f) || Float.isInfinite(eps))
            throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        this.kind = kind; this.name = name; this.eps = eps; this.projected = projected;
        this.op = op; this.grad = grad; this.fn = fn; this.dfn = dfn; this.fixedA = fixedA;
    }

    /** SM+: positive softmax features. */
    public static FeatureMap softmax(float eps) {
        return new FeatureMap(Kind.SOFTMAX, "softmax", eps, true, null, null, null, null);
    }
    /** SMhyp+: hyperbolic positive softmax features (2M features). */
    public static FeatureMap softmaxHyp(float eps) {
        return new FeatureMap(Kind.SOFTMAX_HYP, "softmax-hyp", eps, true, null, null, null, null);
    }
    /** SM-trig: trigonometric softmax features (2M features). */
    public static FeatureMap softmaxTrig() {
        return new FeatureMap(Kind.SOFTMAX_TRIG, "softmax-trig", 0f, true, null, null, null, null);
    }
    /**
     * OPRF (FAVOR++): optimal positive softmax features, A chosen per batch-head from its queries and
     * keys in bidirectional attention, {@link #fixedA} in causal attention.
     */
    public static FeatureMap softmaxOpt(float eps) {
        return new FeatureMap(Kind.SOFTMAX_OPT, "softmax-opt", eps, true, null, null, null, null, Double.NaN);
    }

    /** OPRF with one A for every head and direction (A &lt; 1/8; A = 0 is SM+). */
    public static FeatureMap softmaxOpt(float eps, double a) {
        if (!(a < 0.125) || Double.isInfinite(a))
            throw new IllegalArgumentException("OPRF A must be finite and < 1/8 (finite variance), got " + a);
        return new FeatureMap(Kind.SOFTMAX_OPT, "softmax-opt", eps, true, null, null, null, null, a);
    }

    /** Generalized attention with f = ReLU. */
    public static FeatureMap relu(float eps) {
        return generalized("relu", ElementwiseOp.RELU, ElementwiseOp.RELU_GRAD, eps);
    }
    /** Generalized attention with f = ELU + 1. */
    public static FeatureMap elu(float eps) {
        return generalized("elu", ElementwiseOp.ELU_PLUS_ONE, ElementwiseOp.ELU_PLUS_ONE_GRAD, eps);
    }
    /** Generalized attention with f = exp. */
    public static FeatureMap exp(float eps) { return generalized("exp", ElementwiseOp.EXP, ElementwiseOp.EXP, eps); }
    /** Generalized attention with f = |x|. */
    public static FeatureMap abs(float eps) { return generalized("abs", ElementwiseOp.ABS, ElementwiseOp.SIGN, eps); }
    /** Generalized attention with f = identity (linear attention; features may be negative). */
    public static FeatureMap identity(float eps) {
        return generalized("identity", ElementwiseOp.IDENTITY, ElementwiseOp.ONE, eps);
    }

    private static FeatureMap generalized(String name, ElementwiseOp f, ElementwiseOp df, float eps) {
        return new FeatureMap(Kind.GENERALIZED, name, eps, true, f, df, null, null);
    }

    /** Generalized attention with a user function f and its derivative df. */
    public static FeatureMap custom(String name, ScalarFunction f, ScalarFunction df, float eps) {
        if (f == null || df == null)
            throw new IllegalArgumentException("custom feature map needs f and its derivative");
        return new FeatureMap(Kind.GENERALIZED, name, eps, true, null, null, f, df);
    }

    /** This generalized map applied to x~ directly, without a random projection (Mf = D). */
    public FeatureMap withoutProjection() {
        if (kind != Kind.GENERALIZED) throw new IllegalArgumentException(name + " features need a random projection");
        return new FeatureMap(kind, name + "/no-projection", eps, false, op, grad, fn, dfn);
    }

    public Kind kind() { return kind; }
    public String name() { return name; }
    public float eps() { return eps; }
    public boolean projected() { return projected; }

    /** Whether all features are positive (then attention denominators are > 0). */
    public boolean positive() {
        return stabilized()
                || (kind == Kind.GENERALIZED && (op == ElementwiseOp.RELU || op == ElementwiseOp.ELU_PLUS_ONE
                || op == ElementwiseOp.EXP || op == ElementwiseOp.ABS) && eps > 0f);
    }

    /** Number of features Mf for M random projections of D-dimensional inputs. */
    public int features(int m, int d) {
        if (!projected) return d;
        return (kind == Kind.SOFTMAX_HYP || kind == Kind.SOFTMAX_TRIG) ? 2 * m : m;
    }

    /** Rows of W this map needs (0 without projection). */
    public int projections(int m) { return projected ? m : 0; }

    // ------------------------------------------------------------------ OPRF (FAVOR++)

    /**
     * The variance-optimal OPRF parameter for ρ = mean over query-key pairs of |x~_i + y~_j|² / D:
     * the root below 1/8 of 16A² − (2 − 4ρ)A − ρ = 0, which minimises the mean over the pairs of
     * the log second moment d·log(1−4A) − (d/2)·log(1−8A) + |x+y|²/(1−8A) (docs/notes/oprf-derivation.md):
     * A* = (1 − 2ρ − √((2ρ + 1)² + 8ρ)) / 16 ≤ 0, 0 only at ρ = 0.
     */
    public static double optimalA(double rho) {
        if (!(rho >= 0) || Double.isInfinite(rho)) throw new IllegalArgumentException("rho must be finite and >= 0");
        return (1 - 2 * rho - Math.sqrt((2 * rho + 1) * (2 * rho + 1) + 8 * rho)) / 16;
    }

    /**
     * ρ of one batch-head in O(L·D): mean_{i,j} |x~_i + y~_j|² / D = (mean |x~|² + mean |y~|² + 2·x̄~·ȳ~) / D over
     * the lq query rows of x and the lk key rows of y whose mask entry (mask[maskOff + j], null for none) is not
     * 0. With no visible key, the queries' own term alone.
     */
    public static double rho(float[] x, int xOff, int lq, float[] y, int yOff, int lk, int d, float[] mask,
                             int maskOff) {
        double[] mx = new double[d], my = new double[d];
        double nx = 0, ny = 0;
        for (int i = 0; i < lq; i++)
            for (int c = 0; c < d; c++) { double a = x[xOff + i * d + c]; nx += a * a; mx[c] += a; }
        int keys = 0;
        for (int j = 0; j < lk; j++) {
            if (mask != null && mask[maskOff + j] == 0f) continue;
            keys++;
            for (int c = 0; c < d; c++) { double a = y[yOff + j * d + c]; ny += a * a; my[c] += a; }
        }
        double cross = 0;
        for (int c = 0; c < d; c++) cross += mx[c] * my[c];
        double s2 = 1 / Math.sqrt(d);   // the maps' x~ = x·D^-1/4, squared
        double sum = nx / Math.max(lq, 1) + (keys == 0 ? 0 : ny / keys + 2 * cross / ((double) Math.max(lq, 1) * keys));
        return Math.max(0, s2 * sum / d);
    }

    /** Whether OPRF takes A from each batch-head's own inputs (bidirectional attention; no A was fixed). */
    public boolean adaptive() { return kind == Kind.SOFTMAX_OPT && Double.isNaN(fixedA); }

    /**
     * OPRF's A where it cannot come from the sequence (causal attention, the recurrent decoder): the A
     * this map was made with, else A*(ρ0) for ρ0 = 2/√D, the ρ of independent unit-variance queries and
     * keys. 0 for the other maps.
     */
    public double fixedA(int d) {
        if (kind != Kind.SOFTMAX_OPT) return 0;
        return Double.isNaN(fixedA) ? optimalA(2 / Math.sqrt(d)) : fixedA;
    }

    /** Floats of the projection this map computes with: M·D, plus M biases for OPRF. */
    public int preparedLength(int m, int d) { return m * d + (kind == Kind.SOFTMAX_OPT ? m : 0); }

    /**
     * The projection the map's methods take, from a drawn W (M×D): W itself for every map but OPRF; for
     * OPRF with parameter a, [B·W (M×D), bias (M)] with B = √(1 − 4a), bias_m = a·|w_m|² + (D/4)·log(1 − 4a)
     * (so that u' = B·x~ Wᵀ + bias). Written into {@code into} when it has {@link #preparedLength} floats,
     * else into a new array.
     */
    public float[] prepare(float[] w, int m, int d, double a, float[] into) {
        if (kind != Kind.SOFTMAX_OPT) return w;
        if (!(a < 0.125)) throw new IllegalArgumentException("OPRF A must be < 1/8, got " + a);
        float[] p = into != null && into.length == preparedLength(m, d) ? into : new float[preparedLength(m, d)];
        double b = Math.sqrt(1 - 4 * a), logD = 0.25 * d * Math.log(1 - 4 * a);
        for (int j = 0; j < m; j++) {
            double n2 = 0;
            for (int c = 0; c < d; c++) {
                float x = w[j * d + c];
                n2 += (double) x * x;
                p[j * d + c] = (float) (b * x);
            }
            p[m * d + j] = (float) (a * n2 + logD);
        }
        return p;
    }

    private void addBias(Kernels kern, float[] w, int m, int d, float[] u, int uOff, int rows, int stride) {
        if (kind != Kind.SOFTMAX_OPT) return;
        if (w.length < m * d + m)
            throw new IllegalArgumentException("OPRF features need the prepared projection of M·D + M = "
                    + (m * d + m) + " floats (FeatureMap.prepare), got " + w.length);
        for (int i = 0; i < rows; i++) kern.axpy(1f, w, m * d, u, uOff + i * stride, m);
    }

    /**
     * Forward for one batch-head: phi[rows×Mf] (row stride Mf, at phiOff) from x[rows×D] (at xOff).
     * {@code query} selects the per-row stabilizer (queries) or one over all rows (keys).
     * w is (M×D) row-major as {@link #prepare} makes it (for OPRF with its M biases; ignored without
     * projection).
     */
    public void forward(Kernels kern, float[] x, int xOff, int rows, int d, float[] w, int m,
                        boolean query, float[] phi, int phiOff) {
        project(kern, x, xOff, rows, d, w, m, phi, phiOff);
        if (query) activateQueries(kern, x, xOff, rows, d, m, phi, phiOff);
        else activateKeys(kern, x, xOff, rows, d, m, phi, phiOff,
                stabilized() ? maxPre(kern, phi, phiOff, rows, d, m) : 0f, true);
    }

    /**
     * The pre-activations of rows of x into phi (row stride Mf): u = x~ Wᵀ, for SMhyp+ followed
     * by −u, for OPRF plus its bias; without projection x~ itself. w as {@link #prepare} makes it.
     */
    public void project(Kernels kern, float[] x, int xOff, int rows, int d, float[] w, int m, float[] phi, int phiOff) {
        float s = (float) Math.pow(d, -0.25);
        int mf = features(m, d);
        if (!projected) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(x, xOff + i * d, phi, phiOff + i * mf, d);
                kern.scale(phi, phiOff + i * mf, d, s);
            }
            return;
        }
        kern.gemm(false, true, rows, m, d, s, x, xOff, d, w, 0, d, 0f, phi, phiOff, mf);
        completeProjection(kern, w, m, d, phi, phiOff, rows, mf);
    }

    /** After u = x~ Wᵀ: OPRF's bias, SMhyp+'s −u beside u. */
    private void completeProjection(Kernels kern, float[] w, int m, int d, float[] phi, int phiOff, int rows, int mf) {
        addBias(kern, w, m, d, phi, phiOff, rows, mf);
        if (kind == Kind.SOFTMAX_HYP) {
            for (int i = 0; i < rows; i++) {
                int r = phiOff + i * mf;
                for (int j = 0; j < m; j++) phi[r + m + j] = -phi[r + j];
            }
        }
    }

    /** W (M×D) transposed to (D×M), the layout {@link #projectTransposed} reads. */
    public static float[] transposed(float[] w, int m, int d) {
        float[] t = new float[d * m];
        for (int j = 0; j < m; j++)
            for (int c = 0; c < d; c++) t[c * m + j] = w[j * d + c];
        return t;
    }

    /**
     * {@link #project} with the projection also given transposed: wT = {@link #transposed}(w) (D×M);
     * w still supplies OPRF's biases. A few rows times a non-transposed matrix need no packing, which
     * is what token-by-token decoding computes (the H heads of one token).
     */
    public void projectTransposed(Kernels kern, float[] x, int xOff, int rows, int d, float[] w, float[] wT, int m,
                                  float[] phi, int phiOff) {
        if (!projected) {
            project(kern, x, xOff, rows, d, w, m, phi, phiOff);
            return;
        }
        int mf = features(m, d);
        kern.gemm(false, false, rows, m, d, (float) Math.pow(d, -0.25), x, xOff, d, wT, 0, m, 0f, phi, phiOff, mf);
        completeProjection(kern, w, m, d, phi, phiOff, rows, mf);
    }

    /** The key stabilizer of a block of pre-activations: their max (over ±u for SMhyp+). */
    public float maxPre(Kernels kern, float[] u, int uOff, int rows, int d, int m) {
        int mf = features(m, d);
        float mx = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < rows; i++) mx = Math.max(mx, kern.max(u, uOff + i * mf, mf));
        return mx;
    }

    /** Turns pre-activations into query features in place; stabilized maps use each row's own max. */
    public void activateQueries(Kernels kern, float[] x, int xOff, int rows, int d, int m, float[] phi, int phiOff) {
        if (stabilized()) {
            int mf = features(m, d);
            for (int i = 0; i < rows; i++)
                activateRow(kern, x, xOff + i * d, d, m, phi, phiOff + i * mf,
                        kern.max(phi, phiOff + i * mf, mf), true);
        } else {
            activateKeys(kern, x, xOff, rows, d, m, phi, phiOff, 0f, true);
        }
    }

    /**
     * Turns pre-activations into key features in place with the stabilizer c (stabilized maps
     * only). {@code withEps = false} leaves out the eps term of stabilized maps (ratio·exp(u − n − c)
     * only), for callers that account for it separately.
     */
    public void activateKeys(Kernels kern, float[] x, int xOff, int rows, int d, int m, float[] phi, int phiOff,
                             float c, boolean withEps) {
        int mf = features(m, d);
        switch (kind) {
            case GENERALIZED -> applyGeneralized(kern, phi, phiOff, rows * mf);
            case SOFTMAX, SOFTMAX_HYP, SOFTMAX_OPT -> {
                for (int i = 0; i < rows; i++)
                    activateRow(kern, x, xOff + i * d, d, m, phi, phiOff + i * mf, c, withEps);
            }
            case SOFTMAX_TRIG -> {
                float s = (float) Math.pow(d, -0.25), ratio = (float) (1.0 / Math.sqrt(m)), s2half = 0.5f * s * s;
                for (int i = 0; i < rows; i++) {
                    int r = phiOff + i * mf;
                    float h = ratio * (float) Math.exp(s2half * kern.dot(x, xOff + i * d, x, xOff + i * d, d));
                    kern.map(ElementwiseOp.COS, phi, r, phi, r + m, m);
                    kern.map(ElementwiseOp.SIN, phi, r, phi, r, m);
                    kern.scale(phi, r, mf, h);
                }
            }
        }
    }

    private void activateRow(Kernels kern, float[] x, int xOff, int d, int m, float[] phi, int r, float c,
                             boolean withEps) {
        float s = (float) Math.pow(d, -0.25), ratio = ratio(m);
        float n = 0.5f * s * s * kern.dot(x, xOff, x, xOff, d);
        kern.expAffine(phi, r, features(m, d), -n - c, ratio, withEps ? ratio * eps : 0f);
    }

    /** Whether φ carries a max stabilizer (SM+, SMhyp+ and OPRF). */
    public boolean stabilized() { return kind == Kind.SOFTMAX || kind == Kind.SOFTMAX_HYP || kind == Kind.SOFTMAX_OPT; }

    /** The constant factor of a stabilized map: M^-1/2 (SM+, OPRF) or (2M)^-1/2 (SMhyp+). */
    public float ratio(int m) {
        return (float) (1.0 / Math.sqrt(m) / (kind == Kind.SOFTMAX_HYP ? Math.sqrt(2) : 1.0));
    }

    /**
     * For a stabilized map and one row x: e = u − n with n = |x~|²/2 (SMhyp+: [u − n, −u − n]),
     * Mf values, so that φ = ratio·(exp(e − c) + eps) for a stabilizer c chosen by the caller.
     * Returns n (so that max u = max e + n, the convention's stabilizer).
     */
    public float exponents(Kernels kern, float[] x, int xOff, int d, float[] w, int m, float[] e, int eOff) {
        if (!stabilized()) throw new IllegalStateException(name + " has no stabilized exponent");
        float s = (float) Math.pow(d, -0.25);
        kern.gemm(false, true, 1, m, d, s, x, xOff, d, w, 0, d, 0f, e, eOff, m);
        addBias(kern, w, m, d, e, eOff, 1, m);
        float n = 0.5f * s * s * kern.dot(x, xOff, x, xOff, d);
        if (kind == Kind.SOFTMAX_HYP) for (int j = 0; j < m; j++) e[eOff + m + j] = -e[eOff + j] - n;
        for (int j = 0; j < m; j++) e[eOff + j] -= n;
        return n;
    }

    private void applyGeneralized(Kernels kern, float[] u, int off, int n) {
        if (fn != null) {
            for (int i = 0; i < n; i++) u[off + i] = fn.apply(u[off + i]) + eps;
            return;
        }
        kern.map(op, u, off, u, off, n);
        if (eps != 0f) for (int i = 0; i < n; i++) u[off + i] += eps;
    }

    /**
     * Backward for one batch-head: overwrites dx[rows×D] with the gradient through φ given
     * dphi[rows×Mf]. phi must be this map's forward output for x; dphi is used as scratch
     * (overwritten). {@code scratch} needs rows·M floats for generalized maps (u is recomputed),
     * rows floats for the softmax maps.
     */
    public void backward(Kernels kern, float[] x, int xOff, int rows, int d, float[] w, int m,
                         float[] phi, int phiOff, float[] dphi, int dphiOff, float[] dx, int dxOff, float[] scratch) {
        float s = (float) Math.pow(d, -0.25);
        int mf = features(m, d);
        switch (kind) {
            case GENERALIZED -> {
                // du = dphi ⊙ f'(u); u recomputed into scratch (rows×Mf)
                if (projected) {
                    kern.gemm(false, true, rows, m, d, s, x, xOff, d, w, 0, d, 0f, scratch, 0, mf);
                } else {
                    for (int i = 0; i < rows; i++) {
                        System.arraycopy(x, xOff + i * d, scratch, i * mf, d);
                        kern.scale(scratch, i * mf, d, s);
                    }
                }
                int n = rows * mf;
                if (dfn != null) for (int i = 0; i < n; i++) scratch[i] = dfn.apply(scratch[i]);
                else kern.map(grad, scratch, 0, scratch, 0, n);
                kern.mul(dphi, dphiOff, scratch, 0, dphi, dphiOff, n);
                if (projected) {
                    kern.gemm(false, false, rows, d, m, s, dphi, dphiOff, mf, w, 0, d, 0f, dx, dxOff, d);
                } else {
                    for (int i = 0; i < rows; i++) {
                        System.arraycopy(dphi, dphiOff + i * mf, dx, dxOff + i * d, d);
                        kern.scale(dx, dxOff + i * d, d, s);
                    }
                }
            }
            case SOFTMAX, SOFTMAX_HYP, SOFTMAX_OPT -> {
                // OPRF: the bias is a constant, so its backward is SM+'s with the projection B·W (w's first M·D)
                boolean hyp = kind == Kind.SOFTMAX_HYP;
                float ratio = (float) (1.0 / Math.sqrt(m) / (hyp ? Math.sqrt(2) : 1.0));
                float sub = ratio * eps;
                float[] nsum = scratch; // rows per-row sums
                for (int i = 0; i < rows; i++) {
                    int r = phiOff + i * mf, g = dphiOff + i * mf;
                    // g = dphi ⊙ (phi − ratio·eps): the derivative of phi w.r.t. its exponent
                    nsum[i] = kern.mulShiftSum(dphi, g, phi, r, sub, mf);
                    if (hyp) for (int j = 0; j < m; j++) dphi[g + j] -= dphi[g + m + j];
                }
                // dx = s·(du W) − s²·(Σ_m du)·x
                kern.gemm(false, false, rows, d, m, s, dphi, dphiOff, mf, w, 0, d, 0f, dx, dxOff, d);
                for (int i = 0; i < rows; i++) kern.axpy(-s * s * nsum[i], x, xOff + i * d, dx, dxOff + i * d, d);
            }
            case SOFTMAX_TRIG -> {
                float[] nsum = scratch; // rows per-row sums
                for (int i = 0; i < rows; i++) {
                    int r = phiOff + i * mf, g = dphiOff + i * mf;
                    // phi = [h sin u, h cos u]: du = dS·φc − dC·φs, dn = Σ dphi ⊙ phi
                    float total = 0f;
                    for (int j = 0; j < m; j++) {
                        float ps = phi[r + j], pc = phi[r + m + j], ds = dphi[g + j], dc = dphi[g + m + j];
                        total += ds * ps + dc * pc;
                        dphi[g + j] = ds * pc - dc * ps;
                    }
                    nsum[i] = total;
                }
                kern.gemm(false, false, rows, d, m, s, dphi, dphiOff, mf, w, 0, d, 0f, dx, dxOff, d);
                for (int i = 0; i < rows; i++) kern.axpy(s * s * nsum[i], x, xOff + i * d, dx, dxOff + i * d, d);
            }
        }
    }

    @Override
    public String toString() {
        String a = kind == Kind.SOFTMAX_OPT ? (Double.isNaN(fixedA) ? "A=adaptive" : "A=" + fixedA) : "";
        String e = eps != 0f ? "eps=" + eps : "";
        return name + (a.isEmpty() && e.isEmpty() ? "" : "(" + a + (a.isEmpty() || e.isEmpty() ? "" : ", ") + e + ")");
    }
}
