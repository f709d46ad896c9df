package dev.performer.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.kernel.Kernels;
import dev.performer.kernel.ScalarKernels;
import dev.performer.kernel.VectorKernels;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Linformer attention against an analytic double-precision reference of its forward and of every
 * gradient (dq, dk, dv, dE, dF), itself checked by central finite differences; then the float
 * operator on both backends over sizes around the dE/dF column block (BC = 64), with shared and
 * headwise projections, key masks, maxLen > L and cross attention.
 */
class LinformerAttentionTest {

    static final double U = Math.ulp(1f) / 2;
    static final Kernels VEC = new VectorKernels(2), SCALAR = new ScalarKernels();

    @AfterAll
    static void close() { VEC.close(); }

    /**
     * out, dq, dk, dv, dE, dF in double, written out loop by loop: K' = E_L(M K), V' = F_L(M V),
     * P = softmax(Q K'ᵀ/√D), out = P V', and the chain rule through each of those steps.
     */
    static double[][] reference(Dims dims, double[] q, double[] k, double[] v, double[] mask, double[] e,
                                double[] f, int kk, int maxLen, boolean headwise, double[] dout) {
        int lq = dims.lq(), lk = dims.lk(), d = dims.dim(), nh = dims.heads();
        double[] out = new double[dims.qSize()], dq = new double[dims.qSize()];
        double[] dk = new double[dims.kSize()], dv = new double[dims.kSize()];
        double[] de = new double[e.length], df = new double[f.length];
        double sc = 1 / Math.sqrt(d);
        for (int bh = 0; bh < dims.bh(); bh++) {
            int b = bh / nh, sl = (headwise ? bh % nh : 0) * kk * maxLen, qo = bh * lq * d, ko = bh * lk * d;
            double[][] kp = new double[kk][d], vp = new double[kk][d];
            for (int r = 0; r < kk; r++)
                for (int j = 0; j < lk; j++) {
                    double keep = mask == null ? 1 : mask[b * lk + j];
                    for (int c = 0; c < d; c++) {
                        kp[r][c] += e[sl + r * maxLen + j] * keep * k[ko + j * d + c];
                        vp[r][c] += f[sl + r * maxLen + j] * keep * v[ko + j * d + c];
                    }
                }
            double[][] dkp = new double[kk][d], dvp = new double[kk][d];
            for (int i = 0; i < lq; i++) {
                double[] p = new double[kk];
                double mx = Double.NEGATIVE_INFINITY, z = 0;
                for (int r = 0; r < kk; r++) {
                    for (int c = 0; c < d; c++) p[r] += q[qo + i * d + c] * kp[r][c] * sc;
                    mx = Math.max(mx, p[r]);
                }
                for (int r = 0; r < kk; r++) z += Math.exp(p[r] - mx);
                for (int r = 0; r < kk; r++) p[r] = Math.exp(p[r] - mx) / z;
                double[] dp = new double[kk];
                double rowDot = 0;
                for (int r = 0; r < kk; r++) {
                    for (int c = 0; c < d; c++) {
                        out[qo + i * d + c] += p[r] * vp[r][c];
                        dp[r] += dout[qo + i * d + c] * vp[r][c];
                        dvp[r][c] += p[r] * dout[qo + i * d + c];
                    }
                    rowDot += p[r] * dp[r];
                }
                for (int r = 0; r < kk; r++) {
                    double ds = p[r] * (dp[r] - rowDot) * sc;
                    for (int c = 0; c < d; c++) {
                        dq[qo + i * d + c] += ds * kp[r][c];
                        dkp[r][c] += ds * q[qo + i * d + c];
                    }
                }
            }
            for (int j = 0; j < lk; j++) {
                double keep = mask == null ? 1 : mask[b * lk + j];
                for (int r = 0; r < kk; r++)
                    for (int c = 0; c < d; c++) {
                        dk[ko + j * d + c] += keep * e[sl + r * maxLen + j] * dkp[r][c];
                        dv[ko + j * d + c] += keep * f[sl + r * maxLen + j] * dvp[r][c];
                        de[sl + r * maxLen + j] += dkp[r][c] * keep * k[ko + j * d + c];
                        df[sl + r * maxLen + j] += dvp[r][c] * keep * v[ko + j * d + c];
                    }
            }
        }
        return new double[][]{out, dq, dk, dv, de, df};
    }

    /** Central differences (h = 1e-5) of loss with respect to every element of x (in place, restored). */
    static double[] fd(DoubleSupplier loss, double[] x) {
        double h = 1e-5;
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double x0 = x[i];
            x[i] = x0 + h;
            double lp = loss.getAsDouble();
            x[i] = x0 - h;
            double lm = loss.getAsDouble();
            x[i] = x0;
            g[i] = (lp - lm) / (2 * h);
        }
        return g;
    }

    static float[] rand(SplittableRandom r, int n, double lo, double hi) {
        return GradientCheckTest.rand(r, n, lo, hi);
    }

    static double[] toDouble(float[] x) { return GradientCheckTest.toDouble(x); }

    static double[] uniform(SplittableRandom r, int n, double bound) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.nextDouble(-bound, bound);
        return x;
    }

    @Test
    void referenceGradientsMatchFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(11);
        int kk = 3, maxLen = 9;                                   // maxLen > L: only the first L columns matter
        Dims dims = Dims.self(2, 2, 7, 4);
        for (boolean headwise : new boolean[]{false, true}) {
            int size = (headwise ? 2 : 1) * kk * maxLen;
            double[] q = uniform(r, dims.qSize(), 1), k = uniform(r, dims.kSize(), 1), v = uniform(r, dims.kSize(), 1);
            double[] dout = uniform(r, dims.qSize(), 1), e = uniform(r, size, 1), f = uniform(r, size, 1);
            double[] mask = toDouble(GradientCheckTest.mask(r, 2, 7));
            mask[3] = 0;                                          // at least one masked key
            double[][] ref = reference(dims, q, k, v, mask, e, f, kk, maxLen, headwise, dout);
            DoubleSupplier loss = () -> GradientCheckTest.dot(
                    reference(dims, q, k, v, mask, e, f, kk, maxLen, headwise, dout)[0], dout);
            double[][] inputs = {q, k, v, e, f};
            String[] names = {"dq", "dk", "dv", "dE", "dF"};
            for (int w = 0; w < 5; w++)            // central differences with h = 1e-5: O(h²) ≈ 1e-10 error
                assertTrue(ExactAttentionTest.maxDiff(ref[w + 1], fd(loss, inputs[w])) < 1e-8,
                        "analytic " + names[w] + " headwise=" + headwise);
            for (int i = 0; i < size; i++)
                if (i % maxLen >= 7) assertEquals(0.0, ref[4][i] + ref[5][i], "columns >= L get no gradient");
        }
    }

    @Test
    void referenceWithIdentityProjectionsIsExactAttention() {
        SplittableRandom r = new SplittableRandom(12);
        Dims dims = Dims.self(1, 2, 6, 4);                       // kk = L, E = F = I: K' = K, V' = V
        double[] q = uniform(r, dims.qSize(), 1), k = uniform(r, dims.kSize(), 1), v = uniform(r, dims.kSize(), 1);
        double[] eye = new double[36];
        for (int i = 0; i < 6; i++) eye[i * 6 + i] = 1;
        double[] got = reference(dims, q, k, v, null, eye, eye, 6, 6, false, new double[dims.qSize()])[0];
        assertTrue(ExactAttentionTest.maxDiff(got, RefAttention.exact(dims, q, k, v, null, false)) < 1e-14);
    }

    static Stream<Arguments> shapes() {
        // (B, H, Lq, Lk, D, kk, maxLen, headwise, masked)
        return Stream.of(Arguments.of(1, 1, 1, 1, 8, 1, 1, false, false),
                Arguments.of(2, 2, 5, 5, 8, 4, 9, true, true),
                Arguments.of(1, 2, 64, 64, 64, 32, 64, false, false),
                Arguments.of(2, 2, 65, 65, 8, 4, 100, false, true),
                Arguments.of(1, 3, 65, 65, 64, 1, 65, true, false),
                Arguments.of(2, 2, 257, 257, 8, 32, 300, true, true),
                Arguments.of(1, 2, 257, 257, 64, 4, 257, false, true),
                Arguments.of(2, 2, 70, 129, 8, 32, 200, false, true),        // cross attention
                Arguments.of(1, 1, 5, 5, 64, 32, 5, false, false));
    }

    @ParameterizedTest(name = "B={0} H={1} Lq={2} Lk={3} D={4} kk={5} maxLen={6} headwise={7} masked={8}")
    @MethodSource("shapes")
    void matchesTheDoubleReference(int b, int h, int lq, int lk, int d, int kk, int maxLen, boolean headwise,
                                   boolean masked) {
        SplittableRandom r = new SplittableRandom(lq * 31L + lk + d * 7L + kk + (headwise ? 3 : 0));
        Dims dims = new Dims(b, h, lq, lk, d);
        int size = LinformerAttention.paramSize(kk, maxLen, h, headwise), eOff = 5, fOff = eOff + size + 3;
        float[] params = rand(r, fOff + size + 2, -1, 1);
        LinformerAttention.init(params, eOff, size, kk, 1);
        LinformerAttention.init(params, fOff, size, kk, 2);
        float[] q = rand(r, dims.qSize(), -1, 1), k = rand(r, dims.kSize(), -1, 1);
        float[] v = rand(r, dims.kSize(), -1, 1), dout = rand(r, dims.qSize(), -1, 1);
        float[] mask = masked ? GradientCheckTest.mask(r, b, lk) : null;
        double[] pd = toDouble(params);
        double[] e = Arrays.copyOfRange(pd, eOff, eOff + size), f = Arrays.copyOfRange(pd, fOff,
                fOff + size);
        double[][] ref = reference(dims, toDouble(q), toDouble(k),
                toDouble(v), mask == null ? null : toDouble(mask), e, f, kk, maxLen,
                headwise, toDouble(dout));
        // chained float32 sums over Lk (projection), D (scores), kk (softmax, P V'), Lq (dK', dV'), each with
        // random-walk rounding ~ u·√n relative: 8u per forward chain, 16u for the gradients' twice-longer chain
        double red = Math.sqrt(d) + Math.sqrt(kk) + Math.sqrt(Math.max(lq, lk));
        for (Kernels kern : new Kernels[]{SCALAR, VEC}) {
            float[] grads = new float[params.length];
            LinformerAttention att = new LinformerAttention(kern, kk, maxLen, h, headwise, params, eOff, fOff, grads);
            float[] out = new float[dims.qSize()], dq = new float[q.length], dk = new float[k.length];
            float[] dv = new float[v.length];
            att.backward(att.forward(dims, q, k, v, mask, out), dout, dq, dk, dv);
            float[][] got = {out, dq, dk, dv, Arrays.copyOfRange(grads, eOff, eOff + size),
                Arrays.copyOfRange(grads, fOff, fOff + size)};
            String[] names = {"out", "dq", "dk", "dv", "dE", "dF"};
            for (int i = 0; i < 6; i++) {
                double err = GradientCheckTest.relErr(got[i], ref[i]), tol = (i == 0 ? 8 : 16) * U * red;
                assertTrue(err <= tol, kern.name() + " " + names[i] + " rel err " + err + " > " + tol);
            }
            for (int i = 0; i < params.length; i++)
                if (i < eOff || (i >= eOff + size && i < fOff) || i >= fOff + size)
                    assertEquals(0f, grads[i], "gradient written outside E, F at " + i);
        }
    }

    /** A small shared layer: params holds E at 0 and F at size. */
    record Layer(Dims dims, float[] params, float[] grads, int size, LinformerAttention att) {
        static Layer of(Kernels kern, Dims dims, int kk, int maxLen, boolean headwise, long seed) {
            int size = LinformerAttention.paramSize(kk, maxLen, dims.heads(), headwise);
            float[] params = new float[2 * size], grads = new float[2 * size];
            LinformerAttention.init(params, 0, size, kk, seed);
            LinformerAttention.init(params, size, size, kk, seed + 1);
            return new Layer(dims, params, grads, size,
                    new LinformerAttention(kern, kk, maxLen, dims.heads(), headwise, params, 0, size, grads));
        }
    }

    @Test
    void parameterGradientsAccumulateAndInputGradientsAreOverwritten() {
        SplittableRandom r = new SplittableRandom(21);
        for (boolean headwise : new boolean[]{false, true}) {
            Layer ly = Layer.of(VEC, Dims.self(2, 3, 100, 16), 8, 120, headwise, 4);
            Dims dims = ly.dims();
            float[] q = rand(r, dims.qSize(), -1, 1), k = rand(r, dims.kSize(), -1, 1);
            float[] v = rand(r, dims.kSize(), -1, 1), dout = rand(r, dims.qSize(), -1,
                    1);
            float[] mask = GradientCheckTest.mask(r, 2, 100), out = new float[dims.qSize()];
            float[][] d1 = {new float[q.length], new float[k.length], new float[v.length]};
            float[][] d2 = {rand(r, q.length, -9, 9), rand(r, k.length, -9, 9),
                rand(r, v.length, -9, 9)};
            Attention.Saved s = ly.att().forward(dims, q, k, v, mask, out);
            ly.att().backward(s, dout, d1[0], d1[1], d1[2]);
            float[] once = ly.grads().clone();
            ly.att().backward(s, dout, d2[0], d2[1], d2[2]);  // stale garbage in dq, dk, dv must be overwritten
            for (int i = 0; i < 3; i++) assertArrayEquals(d1[i], d2[i], "input gradient " + i + " overwritten");
            double err = 0, max = 0;
            for (int i = 0; i < once.length; i++) {
                err = Math.max(err, Math.abs(ly.grads()[i] - 2 * once[i]));
                max = Math.max(max, Math.abs(once[i]));
            }
            assertTrue(max > 0, "some parameter gradient");
            // the second pass adds the same terms onto the first's sums: a few roundings of values ≤ 2·max
            assertTrue(err <= 8 * U * max, "twice backward doubles dE, dF: err " + err + " of max " + max);
        }
    }

    @Test
    void maskedKeysContributeNothing() {
        SplittableRandom r = new SplittableRandom(22);
        for (Kernels kern : new Kernels[]{SCALAR, VEC}) {
            Layer a = Layer.of(kern, Dims.self(1, 2, 70, 8), 4, 80, false, 8);
            Layer b = Layer.of(kern, a.dims(), 4, 80, false, 8);
            Dims dims = a.dims();
            float[] q = rand(r, dims.qSize(), -1, 1), k = rand(r, dims.kSize(), -1, 1);
            float[] v = rand(r, dims.kSize(), -1, 1), dout = rand(r, dims.qSize(), -1,
                    1);
            float[] mask = GradientCheckTest.mask(r, 1, 70), k2 = k.clone(), v2 = v.clone();
            int masked = 0;
            for (int bh = 0; bh < 2; bh++)
                for (int j = 0; j < 70; j++)
                    if (mask[j] == 0f) {
                        masked += bh == 0 ? 1 : 0;
                        for (int c = 0; c < 8; c++) {
                            k2[(bh * 70 + j) * 8 + c] = (float) r.nextDouble(-50, 50);
                            v2[(bh * 70 + j) * 8 + c] = (float) r.nextDouble(-50, 50);
                        }
                    }
            assertTrue(masked > 0, "the mask drops some key");
            float[][] ga = run(a, q, k, v, mask, dout), gb = run(b, q, k2, v2, mask, dout);
            String[] names = {"out", "dq", "dk", "dv"};
            for (int i = 0; i < 4; i++) assertArrayEquals(ga[i], gb[i], names[i] + " ignores masked keys' values");
            assertArrayEquals(a.grads(), b.grads(), "dE, dF ignore masked keys' values");
            for (int bh = 0; bh < 2; bh++)
                for (int j = 0; j < 70; j++)
                    for (int c = 0; c < 8; c++) {
                        int at = (bh * 70 + j) * 8 + c;
                        if (mask[j] == 0f) {
                            assertEquals(0f, ga[2][at], "masked dk");
                            assertEquals(0f, ga[3][at], "masked dv");
                        }
                    }
            for (int i = 0; i < a.grads().length; i++) {
                int col = i % 80;                    // B = 1: a masked key's column of dE, dF gets nothing
                if (col >= 70 || mask[col] == 0f) assertEquals(0f, a.grads()[i], "dE/dF column " + col);
            }
            assertFalse(Arrays.equals(ga[0], run(a, q, k2, v2, null, dout)[0]), "the mask matters");
        }
    }

    static float[][] run(Layer ly, float[] q, float[] k, float[] v, float[] mask, float[] dout) {
        Dims dims = ly.dims();
        float[] out = new float[dims.qSize()], dq = new float[q.length], dk = new float[k.length];
        float[] dv = new float[v.length];
        ly.att().backward(ly.att().forward(dims, q, k, v, mask, out), dout, dq, dk, dv);
        return new float[][]{out, dq, dk, dv};
    }

    @Test
    void reusedStateIsRecycledAndGivesTheSameBits() {
        SplittableRandom r = new SplittableRandom(23);
        Layer ly = Layer.of(VEC, Dims.self(2, 2, 50, 8), 6, 64, true, 3);
        Dims dims = ly.dims();
        float[] q = rand(r, dims.qSize(), -1, 1), k = rand(r, dims.kSize(), -1, 1);
        float[] v = rand(r, dims.kSize(), -1, 1);
        float[] a = new float[dims.qSize()], b = new float[dims.qSize()];
        Attention.Saved s = ly.att().forward(dims, q, k, v, null, a);
        assertTrue(s == ly.att().forward(dims, q, k, v, null, b, s), "a Saved of this operator is recycled");
        assertArrayEquals(a, b);
        Attention.Saved other = Layer.of(VEC, dims, 6, 64, true, 3).att().forward(dims, q, k, v, null, b);
        assertFalse(other == ly.att().forward(dims, q, k, v, null, b, other), "another operator's Saved is not");
        assertEquals("linformer", ly.att().name());
        assertFalse(ly.att().causal());
    }

    @Test
    void rejectsTooLongInputsCausalRequestsAndBadBuffers() {
        Layer ly = Layer.of(SCALAR, Dims.self(1, 2, 10, 4), 3, 10, false, 1);
        Dims longer = Dims.self(1, 2, 11, 4);
        float[] x = new float[longer.qSize()];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ly.att().forward(longer, x, x, x, null, new float[x.length]));
        assertTrue(e.getMessage().contains("11") && e.getMessage().contains("maxLen 10"), e.getMessage());
        float[] p = ly.params();
        e = assertThrows(IllegalArgumentException.class,
                () -> LinformerAttention.create(SCALAR, 3, 10, 2, false, true, p, 0, 30, null));
        assertTrue(e.getMessage().contains("causal=true") && e.getMessage().contains("kk=3")
                && e.getMessage().contains("maxLen=10"), e.getMessage());
        assertFalse(LinformerAttention.create(SCALAR, 3, 10, 2, false, false, p, 0, 30, null).causal());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LinformerAttention(SCALAR, 0, 10, 2, false, p, 0, 30, null));
        assertTrue(e.getMessage().contains("kk must be >= 1, got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LinformerAttention(SCALAR, 3, 0, 2, false, p, 0, 30, null));
        assertTrue(e.getMessage().contains("maxLen must be >= 1, got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LinformerAttention(SCALAR, 3, 10, 2, false, p, 0, 31, null));
        assertTrue(e.getMessage().contains("30 floats at offset 31") && e.getMessage().contains("60"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LinformerAttention(SCALAR, 3, 10, 2, false, p, 0, 29, null));
        assertTrue(e.getMessage().contains("overlap"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LinformerAttention(SCALAR, 3, 10, 2, false, p, 0, 30, new float[59]));
        assertTrue(e.getMessage().contains("59"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ly.att().forward(Dims.self(1, 3, 10, 4), new float[120], new float[120], new float[120], null,
                        new float[120]));
        assertTrue(e.getMessage().contains("2 heads"), e.getMessage());
        LinformerAttention inference = new LinformerAttention(SCALAR, 3, 10, 2, false, p, 0, 30, null);
        float[] y = new float[ly.dims().qSize()];
        Attention.Saved s = inference.forward(ly.dims(), y, y, y, null, new float[y.length]);
        assertThrows(IllegalStateException.class, () -> inference.backward(s, y, y.clone(), y.clone(), y.clone()));
    }

    @Test
    void initDrawsUniformWithinOneOverRootKk() {
        float[] p = new float[1002];
        LinformerAttention.init(p, 1, 1000, 16, 7);
        assertEquals(0f, p[0]);
        assertEquals(0f, p[1001]);
        double mx = 0, sum = 0;
        for (int i = 1; i <= 1000; i++) {
            mx = Math.max(mx, Math.abs(p[i]));
            sum += p[i];
        }
        assertTrue(mx <= 0.25 && mx > 0.24, "|x| ≤ 1/√16, nearly reached in 1000 draws: " + mx);
        // mean of 1000 uniforms of sd 0.25/√3 ≈ 0.144: |mean| < 5 sd/√1000 ≈ 0.023
        assertTrue(Math.abs(sum / 1000) < 0.023, "centred: " + sum / 1000);
        float[] again = new float[1002];
        LinformerAttention.init(again, 1, 1000, 16, 7);
        assertArrayEquals(p, again, "deterministic in the seed");
    }
}
