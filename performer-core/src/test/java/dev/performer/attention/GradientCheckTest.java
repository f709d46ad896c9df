package dev.performer.attention;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gradients of every attention variant and feature map, checked in two steps: central finite
 * differences of the double-precision reference {@link RefAttention} (h = 1e-5: truncation
 * O(h²) ≈ 1e-10, cancellation ≈ 1e-16/h ≈ 1e-11 relative), then the float32 hand-written
 * backward against those. Float tolerance: 16·u·(√D + √L + √Mf) (as in {@link GoldenParityTest}:
 * three chained reductions plus two divisions by the denominator), plus 1e-8 for the finite
 * differences. The forward is checked against the reference with 8·u·(√D + √L + √Mf).
 * Causal variants use chunk 4 so that L = 11 spans three chunks, the last one partial.
 */
class GradientCheckTest {

    static final double U = Math.ulp(1f) / 2;
    static final Kernels KERN = new VectorKernels(2);

    @AfterAll
    static void close() { KERN.close(); }

    record Variant(String name, RefAttention.Map ref, Function<Float, FeatureMap> map, float eps,
                   boolean projected, boolean causal, boolean masked, boolean cross, boolean positiveInputs) {
        @Override public String toString() { return name; }
    }

    static Stream<Arguments> variants() {
        Stream.Builder<Arguments> b = Stream.builder();
        Object[][] maps = {
                {"softmax", RefAttention.Map.SOFTMAX, (Function<Float, FeatureMap>) FeatureMap::softmax, 1e-3f},
                {"softmax-eps0", RefAttention.Map.SOFTMAX, (Function<Float, FeatureMap>) FeatureMap::softmax, 0f},
                {"softmax-hyp", RefAttention.Map.HYP, (Function<Float, FeatureMap>) FeatureMap::softmaxHyp, 1e-3f},
                {"softmax-trig", RefAttention.Map.TRIG,
                        (Function<Float, FeatureMap>) e -> FeatureMap.softmaxTrig(), 0f},
                {"softmax-opt", RefAttention.Map.OPRF, (Function<Float, FeatureMap>) FeatureMap::softmaxOpt, 1e-3f},
                {"softmax-opt(A=-0.3)", RefAttention.Map.OPRF,
                        (Function<Float, FeatureMap>) e -> FeatureMap.softmaxOpt(e, -0.3), 1e-3f},
                {"relu", RefAttention.Map.RELU, (Function<Float, FeatureMap>) FeatureMap::relu, 1e-3f},
                {"elu", RefAttention.Map.ELU, (Function<Float, FeatureMap>) FeatureMap::elu, 1e-3f},
                {"exp", RefAttention.Map.EXP, (Function<Float, FeatureMap>) FeatureMap::exp, 1e-3f},
                {"abs", RefAttention.Map.ABS, (Function<Float, FeatureMap>) FeatureMap::abs, 1e-3f},
                {"softplus(custom)", RefAttention.Map.SOFTPLUS,
                        (Function<Float, FeatureMap>) e -> FeatureMap.custom("softplus",
                                x -> (float) Math.log1p(Math.exp(x)), x -> (float) (1 / (1 + Math.exp(-x))), e), 1e-3f},
        };
        for (Object[] mp : maps) {
            for (boolean causal : new boolean[]{false, true}) {
                for (boolean masked : new boolean[]{false, true}) {
                    String n = mp[0] + (causal ? "/causal" : "/bidir") + (masked ? "/masked" : "");
                    b.add(Arguments.of(new Variant(n, (RefAttention.Map) mp[1], cast(mp[2]), (float) mp[3],
                            true, causal, masked, false, false)));
                }
            }
            b.add(Arguments.of(new Variant(mp[0] + "/cross", (RefAttention.Map) mp[1], cast(mp[2]), (float) mp[3],
                    true, false, true, true, false)));
        }
        for (boolean causal : new boolean[]{false, true}) {
            b.add(Arguments.of(new Variant("identity/no-projection" + (causal ? "/causal" : "/bidir"),
                    RefAttention.Map.IDENTITY, e -> FeatureMap.identity(e).withoutProjection(), 1e-3f,
                    false, causal, false, false, true)));
            b.add(Arguments.of(new Variant("relu/no-projection" + (causal ? "/causal" : "/bidir"),
                    RefAttention.Map.RELU, e -> FeatureMap.relu(e).withoutProjection(), 1e-3f,
                    false, causal, true, false, false)));
        }
        return b.build();
    }

    @SuppressWarnings("unchecked")
    static Function<Float, FeatureMap> cast(Object o) { return (Function<Float, FeatureMap>) o; }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    static float[] rand(SplittableRandom r, int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return x;
    }

    static float[] mask(SplittableRandom r, int b, int l) {
        float[] m = new float[b * l];
        for (int i = 0; i < m.length; i++) m[i] = (i % l == 0 || r.nextDouble() < 0.7) ? 1f : 0f; // key 0 always kept
        return m;
    }

    static double relErr(float[] got, double[] want) {
        double err = 0, max = 0;
        for (int i = 0; i < got.length; i++) {
            err = Math.max(err, Math.abs(got[i] - want[i]));
            max = Math.max(max, Math.abs(want[i]));
        }
        return err / Math.max(max, 1e-300);
    }

    interface Loss { double eval(double[] q, double[] k, double[] v); }

    /** Central differences of a scalar loss with respect to one input array (in place, restored). */
    static double[] fd(Loss loss, double[] q, double[] k, double[] v, int which) {
        double h = 1e-5;
        double[] x = which == 0 ? q : which == 1 ? k : v;
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double x0 = x[i];
            x[i] = x0 + h;
            double lp = loss.eval(q, k, v);
            x[i] = x0 - h;
            double lm = loss.eval(q, k, v);
            x[i] = x0;
            g[i] = (lp - lm) / (2 * h);
        }
        return g;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void favorGradientsMatchFiniteDifferences(Variant vt) {
        SplittableRandom r = new SplittableRandom(vt.name.hashCode());
        int b = 2, h = 2, lq = 11, lk = vt.cross ? 7 : 11, d = 8, m = 16;
        Dims dims = new Dims(b, h, lq, lk, d);
        double lo = vt.positiveInputs ? 0.1 : -1, hi = 1;
        double scale = vt.ref == RefAttention.Map.TRIG ? 0.5 : 1; // keep trig denominators away from 0
        float[] q = rand(r, dims.qSize(), lo * scale, hi * scale), k = rand(r, dims.kSize(), lo * scale, hi * scale);
        float[] v = rand(r, dims.kSize(), -1, 1), dout = rand(r, dims.qSize(), -1, 1);
        float[] msk = vt.masked ? mask(r, b, lk) : null;
        FeatureMap map = vt.map.apply(vt.eps);
        float[] w = vt.projected ? Projection.draw(Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, m, d, 42) : null;
        FavorAttention att = new FavorAttention(KERN, map, w, m, d, vt.causal, 4);
        RefAttention ref = new RefAttention(vt.ref, vt.eps, w, m, d);
        if (!map.adaptive()) ref.fixedA = map.fixedA(d);   // a configured A (the adaptive one: the reference's own)
        double[] qd = toDouble(q), kd = toDouble(k), vd = toDouble(v), dd = toDouble(dout),
                md = msk == null ? null : toDouble(msk);
        double[][] stab = ref.stabilizers(dims, qd, kd, md, vt.causal);

        float[] out = new float[dims.qSize()];
        Attention.Saved saved = att.forward(dims, q, k, v, msk, out);
        double[] outRef = ref.forward(dims, qd, kd, vd, md, vt.causal, stab);
        double red = Math.sqrt(d) + Math.sqrt(lk) + Math.sqrt(att.features());
        double eOut = relErr(out, outRef);
        assertTrue(eOut <= 8 * U * red, vt + ": forward rel err " + eOut);

        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        att.backward(saved, dout, dq, dk, dv);
        Loss loss = (qq, kk, vv) -> dot(ref.forward(dims, qq, kk, vv, md, vt.causal, stab), dd);
        double tol = 16 * U * red + 1e-8;
        double[] names = new double[3];
        float[][] got = {dq, dk, dv};
        for (int which = 0; which < 3; which++) {
            double[] g = fd(loss, qd, kd, vd, which);
            names[which] = relErr(got[which], g);
        }
        assertTrue(names[0] <= tol, vt + ": dq rel err " + names[0] + " > " + tol);
        assertTrue(names[1] <= tol, vt + ": dk rel err " + names[1] + " > " + tol);
        assertTrue(names[2] <= tol, vt + ": dv rel err " + names[2] + " > " + tol);
        if (vt.masked) {
            int maskedKeys = 0;
            for (int bh = 0; bh < dims.bh(); bh++)
                for (int j = 0; j < lk; j++)
                    if (msk[(bh / h) * lk + j] == 0f)
                        for (int c = 0; c < d; c++) {
                            if (c == 0) maskedKeys++;
                            assertEquals(0f, dk[(bh * lk + j) * d + c], vt + ": masked key has gradient");
                            assertEquals(0f, dv[(bh * lk + j) * d + c], vt + ": masked value has gradient");
                        }
            assertTrue(maskedKeys > 0, vt + ": the mask drew no masked key, nothing was checked");
        }
    }

    static Stream<Arguments> exactVariants() {
        return Stream.of(Arguments.of(false, false, false), Arguments.of(true, false, false),
                Arguments.of(false, true, false), Arguments.of(true, true, false), Arguments.of(false, true, true));
    }

    @ParameterizedTest(name = "exact causal={0} masked={1} cross={2}")
    @MethodSource("exactVariants")
    void exactGradientsMatchFiniteDifferences(boolean causal, boolean masked, boolean cross) {
        SplittableRandom r = new SplittableRandom(7 + (causal ? 1 : 0) + (masked ? 2 : 0) + (cross ? 4 : 0));
        int b = 2, h = 2, lq = 9, lk = cross ? 6 : 9, d = 8;
        Dims dims = new Dims(b, h, lq, lk, d);
        float[] q = rand(r, dims.qSize(), -1, 1), k = rand(r, dims.kSize(), -1, 1), v = rand(r, dims.kSize(), -1, 1),
                dout = rand(r, dims.qSize(), -1, 1);
        float[] msk = masked ? mask(r, b, lk) : null;
        ExactAttention att = new ExactAttention(KERN, causal);
        float[] out = new float[dims.qSize()];
        Attention.Saved saved = att.forward(dims, q, k, v, msk, out);
        double[] qd = toDouble(q), kd = toDouble(k), vd = toDouble(v), dd = toDouble(dout),
                md = msk == null ? null : toDouble(msk);
        double red = Math.sqrt(d) + Math.sqrt(lk);
        assertTrue(relErr(out, RefAttention.exact(dims, qd, kd, vd, md, causal)) <= 8 * U * red, "exact forward");
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        att.backward(saved, dout, dq, dk, dv);
        Loss loss = (qq, kk, vv) -> dot(RefAttention.exact(dims, qq, kk, vv, md, causal), dd);
        double tol = 16 * U * red + 1e-8;
        float[][] got = {dq, dk, dv};
        for (int which = 0; which < 3; which++) {
            double e = relErr(got[which], fd(loss, qd, kd, vd, which));
            assertTrue(e <= tol, "exact grad " + which + " rel err " + e + " > " + tol);
        }
    }

    @ParameterizedTest(name = "identity causal={0}")
    @MethodSource("bools")
    void identityGradientsMatchFiniteDifferences(boolean causal) {
        SplittableRandom r = new SplittableRandom(3);
        Dims dims = Dims.self(1, 2, 5, 4);
        float[] q = rand(r, dims.qSize(), -1, 1), k = rand(r, dims.kSize(), -1, 1), v = rand(r, dims.kSize(), -1, 1),
                dout = rand(r, dims.qSize(), -1, 1);
        IdentityAttention att = new IdentityAttention(causal);
        float[] out = new float[dims.qSize()];
        Attention.Saved s = att.forward(dims, q, k, v, null, out);
        assertArrayEquals(v, out);
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        att.backward(s, dout, dq, dk, dv);
        double[] dd = toDouble(dout);
        Loss loss = (qq, kk, vv) -> dot(vv, dd);
        double[] qd = toDouble(q), kd = toDouble(k), vd = toDouble(v);
        float[][] got = {dq, dk, dv};
        for (int which = 0; which < 3; which++) {
            double[] g = fd(loss, qd, kd, vd, which);
            // the loss is linear in v (and constant in q, k): central differences are exact up to cancellation,
            // ~1e-16/h = 1e-11
            for (int i = 0; i < g.length; i++) assertEquals(g[i], got[which][i], 1e-9);
        }
    }

    static Stream<Boolean> bools() { return Stream.of(false, true); }
}
