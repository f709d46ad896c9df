package dev.performer.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.kernel.Kernels;
import dev.performer.kernel.ScalarKernels;
import dev.performer.kernel.VectorKernels;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tiled exact attention (online softmax; and the materialising form it replaced) against an
 * analytic double-precision reference of softmax attention and its gradients, which is itself
 * checked by finite differences; over sizes that cross the tile boundaries (BQ = 84 query rows,
 * BK = 256 keys), causal and bidirectional, with key masks (one batch row masked entirely), cross
 * attention and one head on several threads.
 */
class ExactAttentionTest {

    static final double U = Math.ulp(1f) / 2;
    static final Kernels VEC = new VectorKernels(2), SCALAR = new ScalarKernels();

    @AfterAll
    static void close() { VEC.close(); }

    /** out, dq, dk, dv of softmax attention in double: P = softmax(S), dS = P ⊙ (dP − rowsum(P ⊙ dP)). */
    static double[][] reference(Dims dims, double[] q, double[] k, double[] v, double[] mask, boolean causal,
                                double[] dout) {
        int lq = dims.lq(), lk = dims.lk(), d = dims.dim();
        double[] out = new double[dims.qSize()], dq = new double[dims.qSize()];
        double[] dk = new double[dims.kSize()], dv = new double[dims.kSize()];
        double sc = 1 / Math.sqrt(d);
        for (int bh = 0; bh < dims.bh(); bh++) {
            int b = bh / dims.heads(), qo = bh * lq * d, ko = bh * lk * d;
            for (int i = 0; i < lq; i++) {
                double[] p = new double[lk];
                double mx = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    if ((causal && j > i) || (mask != null && mask[b * lk + j] == 0)) { p[j] = Double.NaN; continue; }
                    double a = 0;
                    for (int c = 0; c < d; c++) a += q[qo + i * d + c] * k[ko + j * d + c];
                    p[j] = a * sc;
                    mx = Math.max(mx, p[j]);
                }
                double z = 0;
                for (int j = 0; j < lk; j++) z += Double.isNaN(p[j]) ? 0 : Math.exp(p[j] - mx);
                for (int j = 0; j < lk; j++) p[j] = Double.isNaN(p[j]) || z == 0 ? 0 : Math.exp(p[j] - mx) / z;
                double[] dp = new double[lk];
                double rowDot = 0;
                for (int j = 0; j < lk; j++) {
                    for (int c = 0; c < d; c++) {
                        out[qo + i * d + c] += p[j] * v[ko + j * d + c];
                        dp[j] += dout[qo + i * d + c] * v[ko + j * d + c];
                        dv[ko + j * d + c] += p[j] * dout[qo + i * d + c];
                    }
                    rowDot += p[j] * dp[j];
                }
                for (int j = 0; j < lk; j++) {
                    double ds = p[j] * (dp[j] - rowDot) * sc;
                    for (int c = 0; c < d; c++) {
                        dq[qo + i * d + c] += ds * k[ko + j * d + c];
                        dk[ko + j * d + c] += ds * q[qo + i * d + c];
                    }
                }
            }
        }
        return new double[][]{out, dq, dk, dv};
    }

    @Test
    void referenceGradientsMatchFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(5);
        for (boolean causal : new boolean[]{false, true}) {
            Dims dims = new Dims(2, 2, 7, causal ? 7 : 5, 4);
            double[] q = GradientCheckTest.toDouble(GradientCheckTest.rand(r, dims.qSize(), -1, 1));
            double[] k = GradientCheckTest.toDouble(GradientCheckTest.rand(r, dims.kSize(), -1, 1));
            double[] v = GradientCheckTest.toDouble(GradientCheckTest.rand(r, dims.kSize(), -1, 1));
            double[] dout = GradientCheckTest.toDouble(GradientCheckTest.rand(r, dims.qSize(), -1, 1));
            double[] mask = GradientCheckTest.toDouble(GradientCheckTest.mask(r, 2, dims.lk()));
            double[][] ref = reference(dims, q, k, v, mask, causal, dout);
            assertTrue(maxDiff(ref[0], RefAttention.exact(dims, q, k, v, mask, causal)) < 1e-14,
                    "forward = RefAttention");
            GradientCheckTest.Loss loss = (qq, kk, vv) ->
                    GradientCheckTest.dot(reference(dims, qq, kk, vv, mask, causal, dout)[0], dout);
            for (int which = 0; which < 3; which++)   // central differences with h = 1e-5: O(h²) ≈ 1e-10 error
                assertTrue(maxDiff(ref[which + 1], GradientCheckTest.fd(loss, q, k, v, which)) < 1e-8,
                        "analytic gradient " + which + " causal=" + causal);
        }
    }

    static Stream<Arguments> shapes() {
        // (B, H, Lq, Lk, D, causal, masked): around one tile, tile + 1, several key tiles, cross attention
        return Stream.of(Arguments.of(1, 1, 1, 1, 8, false, false), Arguments.of(1, 2, 5, 5, 8, true, false),
                Arguments.of(1, 1, 64, 64, 16, true, false), Arguments.of(2, 1, 65, 65, 16, false, true),
                Arguments.of(1, 2, 257, 257, 8, true, true), Arguments.of(1, 1, 300, 300, 64, false, false),
                Arguments.of(1, 1, 300, 300, 64, true, false), Arguments.of(2, 2, 70, 513, 8, false, true),
                Arguments.of(1, 3, 129, 129, 12, true, true), Arguments.of(1, 1, 84, 84, 16, true, false),
                Arguments.of(1, 2, 85, 85, 16, false, true), Arguments.of(1, 1, 169, 169, 8, true, true),
                // on 2 threads one head (300) and three heads (600) split their key blocks into parts
                Arguments.of(1, 3, 600, 600, 16, true, true), Arguments.of(1, 1, 1100, 1100, 8, true, false));
    }

    @ParameterizedTest(name = "B={0} H={1} Lq={2} Lk={3} D={4} causal={5} masked={6}")
    @MethodSource("shapes")
    void matchesTheDoubleReference(int b, int h, int lq, int lk, int d, boolean causal, boolean masked) {
        SplittableRandom r = new SplittableRandom(lq * 31L + lk + d + (causal ? 7 : 0));
        Dims dims = new Dims(b, h, lq, lk, d);
        float[] q = GradientCheckTest.rand(r, dims.qSize(), -2, 2), k = GradientCheckTest.rand(r, dims.kSize(), -2, 2);
        float[] v = GradientCheckTest.rand(r, dims.kSize(), -1, 1),
                dout = GradientCheckTest.rand(r, dims.qSize(), -1, 1);
        float[] mask = masked ? GradientCheckTest.mask(r, b, lk) : null;
        if (masked && b > 1) java.util.Arrays.fill(mask, lk, 2 * lk, 0f);     // batch row 1: no visible key at all
        double[][] ref = reference(dims, GradientCheckTest.toDouble(q), GradientCheckTest.toDouble(k),
                GradientCheckTest.toDouble(v), mask == null ? null : GradientCheckTest.toDouble(mask), causal,
                GradientCheckTest.toDouble(dout));
        // float32 sums of Lk products of D terms, in tiles: error ~ u·(√D + √Lk) relative (random-walk rounding)
        double red = Math.sqrt(d) + Math.sqrt(lk);
        // the tiled kernel on both backends, and the materialising form it replaced, against the same reference
        Attention[] impls = {new ExactAttention(SCALAR, causal), new ExactAttention(VEC, causal),
            new MaterializedExactAttention(VEC, causal)};
        for (Attention att : impls) {
            String kern = att.getClass().getSimpleName() + "/" + (att == impls[0] ? "scalar" : "vector");
            float[] out = new float[dims.qSize()], dq = new float[q.length], dk = new float[k.length];
            float[] dv = new float[v.length];
            Attention.Saved s = att.forward(dims, q, k, v, mask, out);
            att.backward(s, dout, dq, dk, dv);
            float[][] got = {out, dq, dk, dv};
            String[] names = {"out", "dq", "dk", "dv"};
            for (int i = 0; i < 4; i++) {
                double e = GradientCheckTest.relErr(got[i], ref[i]), tol = (i == 0 ? 8 : 16) * U * red;
                assertTrue(e <= tol, kern + " " + names[i] + " rel err " + e + " > " + tol);
            }
            if (masked && b > 1)
                for (int i = h * lq * d; i < 2 * h * lq * d; i++) assertEquals(0f, out[i], "no visible key: output 0");
        }
    }

    @Test
    void reusedStateAndOneHeadOnTwoThreadsGiveTheSameBits() {
        SplittableRandom r = new SplittableRandom(9);
        Dims dims = Dims.self(1, 1, 500, 32);
        float[] q = GradientCheckTest.rand(r, dims.qSize(), -1, 1), k = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] v = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] a = new float[dims.qSize()], b = new float[dims.qSize()];
        try (Kernels one = new VectorKernels(1)) {
            new ExactAttention(one, true).forward(dims, q, k, v, null, a);
        }
        ExactAttention att = new ExactAttention(VEC, true);
        Attention.Saved s = att.forward(dims, q, k, v, null, b);
        assertArrayEquals(a, b, "tiles are independent: the split across threads does not change a bit");
        float[] c = new float[dims.qSize()];
        assertTrue(s == att.forward(dims, q, k, v, null, c, s), "a Saved of the same shape is recycled");
        assertArrayEquals(b, c);
    }

    @Test
    void backwardSplitsKeyBlocksOnlyWhenHeadsDoNotFillTheThreads() {
        assertEquals(1, ExactAttention.keyParts(8, 2, 16), "8 heads on 2 threads: heads alone");
        assertEquals(1, ExactAttention.keyParts(2, 2, 16), "balanced");
        assertEquals(4, ExactAttention.keyParts(1, 2, 16), "one head: about two tasks per thread");
        assertEquals(2, ExactAttention.keyParts(3, 2, 16), "3 heads on 2 threads: unbalanced, split");
        assertEquals(1, ExactAttention.keyParts(1, 2, 1), "one key block cannot split");
        assertEquals(1, ExactAttention.keyParts(1, 1, 16), "one thread");
    }

    static double maxDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
