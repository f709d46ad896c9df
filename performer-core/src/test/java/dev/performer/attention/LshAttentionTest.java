package dev.performer.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.kernel.Kernels;
import dev.performer.kernel.ScalarKernels;
import dev.performer.kernel.VectorKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Reformer's LSH attention against an independent double-precision reference of its semantics
 * (the bucket assignment taken from the operator, everything after it recomputed), whose analytic
 * gradient is checked by central finite differences with the hashing held fixed; then the float
 * operator over sizes that cross the chunk boundaries, its exact-attention limit (one bucket, one
 * chunk), causality and the key mask.
 */
class LshAttentionTest {

    static final double U = Math.ulp(1f) / 2;
    static final Kernels VEC = new VectorKernels(2), SCALAR = new ScalarKernels();

    @AfterAll
    static void close() { VEC.close(); }

    /** The operator's buckets [bh][round][position]. */
    static int[][][] hashes(LshAttention att, Dims dims, float[] q) {
        int[][][] h = new int[dims.bh()][att.rounds()][];
        for (int bh = 0; bh < dims.bh(); bh++)
            for (int r = 0; r < att.rounds(); r++) h[bh][r] = att.buckets(dims, q, bh, r);
        return h;
    }

    /**
     * out, dq, dk (= 0), dv of LSH attention in double for given buckets. Backward goes the long
     * way: through each round's softmax output o_r and log-sum-exp lse_r, with the round weights
     * w_r = e^(lse_r − lse): ∂L/∂o_r = w_r·dout, ∂L/∂lse_r = w_r·dout·(o_r − out).
     */
    static double[][] reference(Dims dims, double[] q, double[] v, double[] mask, boolean causal, int chunk,
                                int[][][] bk, double[] dout) {
        int l = dims.lq(), d = dims.dim(), rounds = bk[0].length;
        double[] out = new double[dims.qSize()], dq = new double[dims.qSize()], dv = new double[dims.qSize()];
        double sc = 1 / Math.sqrt(d);
        for (int bh = 0; bh < dims.bh(); bh++) {
            int b = bh / dims.heads(), ho = bh * l * d;
            double[][] kh = new double[l][d];
            double[] norm = new double[l];
            for (int j = 0; j < l; j++) {
                double n2 = 0;
                for (int c = 0; c < d; c++) n2 += q[ho + j * d + c] * q[ho + j * d + c];
                norm[j] = Math.sqrt(n2);
                for (int c = 0; c < d; c++) kh[j][c] = norm[j] > 0 ? q[ho + j * d + c] / norm[j] : 0;
            }
            int[][][] keys = new int[rounds][l][];
            double[][][] prob = new double[rounds][l][];
            double[][][] o = new double[rounds][l][d];
            double[][] lse = new double[rounds][l];
            for (int r = 0; r < rounds; r++) {
                int[] bucket = bk[bh][r];
                Integer[] order = new Integer[l];
                for (int j = 0; j < l; j++) order[j] = j;
                Arrays.sort(order, Comparator.comparingInt((Integer j) -> bucket[j]).thenComparingInt(j -> j));
                for (int p = 0; p < l; p++) {
                    int i = order[p], c = p / chunk;
                    List<Integer> ks = new ArrayList<>();
                    List<Double> ss = new ArrayList<>();
                    for (int t = Math.max(0, (c - 1) * chunk); t < Math.min(l, (c + 1) * chunk); t++) {
                        int j = order[t];
                        if ((causal && j > i) || (mask != null && mask[b * l + j] == 0)) continue;
                        double s = 0;
                        for (int x = 0; x < d; x++) s += q[ho + i * d + x] * kh[j][x];
                        ks.add(j);
                        ss.add(j == i ? -1e5 : s * sc);
                    }
                    keys[r][i] = ks.stream().mapToInt(Integer::intValue).toArray();
                    prob[r][i] = new double[ks.size()];
                    if (ks.isEmpty()) { lse[r][i] = Double.NEGATIVE_INFINITY; continue; }
                    double mx = ss.stream().mapToDouble(Double::doubleValue).max().getAsDouble(), z = 0;
                    for (double s : ss) z += Math.exp(s - mx);
                    lse[r][i] = mx + Math.log(z);
                    for (int t = 0; t < ks.size(); t++) {
                        prob[r][i][t] = Math.exp(ss.get(t) - lse[r][i]);
                        for (int x = 0; x < d; x++) o[r][i][x] += prob[r][i][t] * v[ho + ks.get(t) * d + x];
                    }
                }
            }
            double[][] dkh = new double[l][d];
            for (int i = 0; i < l; i++) {
                double mx = Double.NEGATIVE_INFINITY;
                for (int r = 0; r < rounds; r++) mx = Math.max(mx, lse[r][i]);
                if (mx == Double.NEGATIVE_INFINITY) continue;           // no key in any round: out 0, no gradient
                double z = 0;
                for (int r = 0; r < rounds; r++) z += Math.exp(lse[r][i] - mx);
                double lseAll = mx + Math.log(z);
                double[] w = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    w[r] = Math.exp(lse[r][i] - lseAll);
                    for (int x = 0; x < d; x++) out[ho + i * d + x] += w[r] * o[r][i][x];
                }
                double doOut = 0;
                for (int x = 0; x < d; x++) doOut += dout[ho + i * d + x] * out[ho + i * d + x];
                for (int r = 0; r < rounds; r++) {
                    double doO = 0;
                    for (int x = 0; x < d; x++) doO += dout[ho + i * d + x] * o[r][i][x];
                    double gLse = w[r] * (doO - doOut);
                    for (int t = 0; t < keys[r][i].length; t++) {
                        int j = keys[r][i][t];
                        double p = prob[r][i][t], gv = 0;
                        for (int x = 0; x < d; x++) {
                            dv[ho + j * d + x] += p * w[r] * dout[ho + i * d + x];
                            gv += w[r] * dout[ho + i * d + x] * v[ho + j * d + x];
                        }
                        double ds = p * (gv - w[r] * doO) + p * gLse;  // softmax and log-sum-exp backward
                        if (j == i) continue;                          // the self score is a constant
                        for (int x = 0; x < d; x++) {
                            dq[ho + i * d + x] += ds * sc * kh[j][x];
                            dkh[j][x] += ds * sc * q[ho + i * d + x];
                        }
                    }
                }
            }
            for (int j = 0; j < l; j++) {                              // k̂ = q/|q|: dq += (dk̂ − k̂(k̂·dk̂))/|q|
                if (norm[j] == 0) continue;
                double t = 0;
                for (int x = 0; x < d; x++) t += kh[j][x] * dkh[j][x];
                for (int x = 0; x < d; x++) dq[ho + j * d + x] += (dkh[j][x] - kh[j][x] * t) / norm[j];
            }
        }
        return new double[][]{out, dq, new double[dims.kSize()], dv};
    }

    /** Central differences (h = 1e-6) of sum(out·dout) of the reference in q or v, buckets fixed. */
    static double[] fd(Dims dims, double[] q, double[] v, double[] mask, boolean causal, int chunk, int[][][] bk,
                       double[] dout, boolean wrtQ) {
        double h = 1e-6;
        double[] x = wrtQ ? q : v, g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double x0 = x[i];
            x[i] = x0 + h;
            double lp = GradientCheckTest.dot(reference(dims, q, v, mask, causal, chunk, bk, dout)[0], dout);
            x[i] = x0 - h;
            double lm = GradientCheckTest.dot(reference(dims, q, v, mask, causal, chunk, bk, dout)[0], dout);
            x[i] = x0;
            g[i] = (lp - lm) / (2 * h);
        }
        return g;
    }

    @ParameterizedTest(name = "causal={0}")
    @MethodSource("bools")
    void referenceGradientsMatchFiniteDifferences(boolean causal) {
        SplittableRandom r = new SplittableRandom(causal ? 11 : 12);
        Dims dims = Dims.self(1, 2, 9, 4);
        LshAttention att = new LshAttention(SCALAR, causal, 4, 2, 3, 77);
        float[] qf = GradientCheckTest.rand(r, dims.qSize(), -1, 1);
        double[] q = GradientCheckTest.toDouble(qf), v = GradientCheckTest.toDouble(
                GradientCheckTest.rand(r, dims.kSize(), -1, 1));
        double[] dout = GradientCheckTest.toDouble(GradientCheckTest.rand(r, dims.qSize(), -1, 1));
        double[] mask = GradientCheckTest.toDouble(GradientCheckTest.mask(r, 1, 9));
        int[][][] bk = hashes(att, dims, qf);
        assertTrue(distinct(bk) > 1, "the hash put every position in one bucket: chunking is not exercised");
        double[][] ref = reference(dims, q, v, mask, causal, 3, bk, dout);
        // h = 1e-6: truncation O(h²) ≈ 1e-12, cancellation ≈ 1e-16·|loss|/h ≈ 1e-9
        assertTrue(ExactAttentionTest.maxDiff(ref[1], fd(dims, q, v, mask, causal, 3, bk, dout, true)) < 1e-7, "dq");
        assertTrue(ExactAttentionTest.maxDiff(ref[3], fd(dims, q, v, mask, causal, 3, bk, dout, false)) < 1e-7, "dv");
        double gq = 0;
        for (double x : ref[1]) gq = Math.max(gq, Math.abs(x));
        assertTrue(gq > 1e-3, "dq is not trivially zero");
    }

    static int distinct(int[][][] bk) {
        return (int) Arrays.stream(bk).flatMap(Arrays::stream).flatMapToInt(Arrays::stream).distinct().count();
    }

    static Stream<Arguments> shapes() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (int l : new int[]{1, 5, 64, 65, 200})
            for (int d : new int[]{8, 32})
                for (int nb : new int[]{2, 8})
                    for (int rounds : new int[]{1, 3})
                        for (int chunk : new int[]{4, 16, 64})
                            for (boolean causal : new boolean[]{false, true})
                                for (boolean masked : new boolean[]{false, true})
                                    s.add(Arguments.of(l, d, nb, rounds, chunk, causal, masked));
        return s.build();
    }

    @ParameterizedTest(name = "L={0} D={1} buckets={2} rounds={3} chunk={4} causal={5} masked={6}")
    @MethodSource("shapes")
    void matchesTheDoubleReference(int l, int d, int nb, int rounds, int chunk, boolean causal, boolean masked) {
        int b = l <= 65 ? 2 : 1, h = 2;
        SplittableRandom r = new SplittableRandom(l * 1009L + d * 31L + nb * 7L + rounds + chunk * 13L
                + (causal ? 5 : 0) + (masked ? 3 : 0));
        Dims dims = Dims.self(b, h, l, d);
        float[] q = GradientCheckTest.rand(r, dims.qSize(), -2, 2), k = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] v = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] dout = GradientCheckTest.rand(r, dims.qSize(), -1, 1);
        float[] mask = masked ? GradientCheckTest.mask(r, b, l) : null;
        if (masked && b > 1) Arrays.fill(mask, l, 2 * l, 0f);         // batch row 1: no key at all
        // float32 sums of D products (scores) and of ≤ 2·chunk terms (softmax sums, P·V) per round, a few
        // more roundings for the normalisation and the round combination: ~ u·(√D + √(2·chunk)) relative
        double red = Math.sqrt(d) + Math.sqrt(Math.min(2 * chunk, l));
        for (Kernels kern : new Kernels[]{SCALAR, VEC}) {
            LshAttention att = new LshAttention(kern, causal, nb, rounds, chunk, 1234);
            double[][] ref = reference(dims, GradientCheckTest.toDouble(q), GradientCheckTest.toDouble(v),
                    mask == null ? null : GradientCheckTest.toDouble(mask), causal, chunk, hashes(att, dims, q),
                    GradientCheckTest.toDouble(dout));
            float[] out = new float[dims.qSize()], dq = new float[q.length], dk = new float[k.length];
            float[] dv = new float[v.length];
            Arrays.fill(dk, 1f);
            Attention.Saved s = att.forward(dims, q, k, v, mask, out);
            att.backward(s, dout, dq, dk, dv);
            float[][] got = {out, dq, dk, dv};
            String[] names = {"out", "dq", "dk", "dv"};
            for (int i : new int[]{0, 1, 3}) {
                double e = GradientCheckTest.relErr(got[i], ref[i]), tol = (i == 0 ? 8 : 16) * U * red;
                assertTrue(e <= tol, kern.name() + " " + names[i] + " rel err " + e + " > " + tol);
            }
            for (float x : dk) assertEquals(0f, x, "dk is written as 0 (the k input is ignored)");
            if (masked && b > 1)
                for (int i = h * l * d; i < 2 * h * l * d; i++) assertEquals(0f, out[i], "no key: output 0");
        }
    }

    /** Softmax attention in double with keys q/|q|, the self score −1e5, the key mask and (causal) j ≤ i. */
    static double[] softmaxSelf(Dims dims, float[] q, float[] v, float[] mask, boolean causal) {
        int l = dims.lq(), d = dims.dim();
        double[] out = new double[dims.qSize()];
        for (int bh = 0; bh < dims.bh(); bh++) {
            int ho = bh * l * d, b = bh / dims.heads();
            for (int i = 0; i < l; i++) {
                double[] s = new double[l];
                double mx = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < l; j++) {
                    double qq = 0, qk = 0;
                    for (int c = 0; c < d; c++) {
                        qq += (double) q[ho + j * d + c] * q[ho + j * d + c];
                        qk += (double) q[ho + i * d + c] * q[ho + j * d + c];
                    }
                    boolean off = (causal && j > i) || (mask != null && mask[b * l + j] == 0f);
                    s[j] = off ? Double.NEGATIVE_INFINITY : j == i ? -1e5 : qk / Math.sqrt(qq) / Math.sqrt(d);
                    mx = Math.max(mx, s[j]);
                }
                if (mx == Double.NEGATIVE_INFINITY) continue;
                double z = 0;
                for (int j = 0; j < l; j++) z += Math.exp(s[j] - mx);
                for (int j = 0; j < l; j++)
                    for (int c = 0; c < d; c++) out[ho + i * d + c] += Math.exp(s[j] - mx) / z * v[ho + j * d + c];
            }
        }
        return out;
    }

    static Stream<Arguments> limits() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (boolean causal : new boolean[]{false, true})
            for (int rounds : new int[]{1, 2})
                for (int extra : new int[]{0, 9})
                    s.add(Arguments.of(causal, rounds, extra));
        return s.build();
    }

    @ParameterizedTest(name = "causal={0} rounds={1} chunk=L+{2}")
    @MethodSource("limits")
    void oneBucketAndOneChunkIsSoftmaxAttention(boolean causal, int rounds, int extra) {
        SplittableRandom r = new SplittableRandom(21 + rounds + extra + (causal ? 1 : 0));
        int l = 37, d = 16;
        Dims dims = Dims.self(2, 2, l, d);
        float[] q = GradientCheckTest.rand(r, dims.qSize(), -2, 2), v = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] mask = GradientCheckTest.mask(r, 2, l);
        mask[l] = 0f;                                // batch 1, query 0 causal: its only key (itself) masked
        for (float[] m : new float[][]{null, mask}) {
            double[] want = softmaxSelf(dims, q, v, m, causal);
            for (Kernels kern : new Kernels[]{SCALAR, VEC}) {
                float[] out = new float[dims.qSize()];
                new LshAttention(kern, causal, 1, rounds, l + extra, 5).forward(dims, q, q, v, m, out);
                // as in ExactAttentionTest: float32 sums of D and L terms, ~ u·(√D + √L) relative
                double e = GradientCheckTest.relErr(out, want), tol = 8 * U * (Math.sqrt(d) + Math.sqrt(l));
                assertTrue(e <= tol, kern.name() + " masked=" + (m != null) + " rel err " + e + " > " + tol);
                if (causal && m != null)
                    for (int c = 0; c < d; c++) assertEquals(0f, out[2 * l * d + c], "no key at all: output 0");
            }
        }
    }

    @Test
    void causalOutputsIgnoreLaterPositions() {
        SplittableRandom r = new SplittableRandom(31);
        int l = 40, d = 8, t = 17;
        Dims dims = Dims.self(1, 2, l, d);
        float[] q = GradientCheckTest.rand(r, dims.qSize(), -2, 2), v = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        // one bucket: the sort is the identity and the chunks are fixed, so q and v after t may change freely
        float[] q2 = q.clone(), v2 = v.clone();
        for (int bh = 0; bh < 2; bh++)
            for (int i = (bh * l + t + 1) * d; i < (bh + 1) * l * d; i++) {
                q2[i] = (float) r.nextDouble(-2, 2);
                v2[i] = (float) r.nextDouble(-1, 1);
            }
        for (Kernels kern : new Kernels[]{SCALAR, VEC}) {
            assertPrefixes(new LshAttention(kern, true, 1, 2, 8, 3), dims, q, v, q2, v2, t, true);
            assertPrefixes(new LshAttention(kern, false, 1, 2, 8, 3), dims, q, v, q2, v2, t, false);
        }
        // several buckets: later values change freely, later queries only to other vectors in the same buckets
        // (their hashes move the chunk boundaries of earlier positions; see the class comment)
        LshAttention att = new LshAttention(VEC, true, 4, 2, 5, 9);
        int[][][] bk = hashes(att, dims, q);
        float[] q3 = q.clone();
        int changed = 0;
        for (int bh = 0; bh < 2; bh++)
            for (int j = t + 1; j < l; j++) {
                float[] keep = Arrays.copyOfRange(q3, (bh * l + j) * d, (bh * l + j + 1) * d);
                for (int attempt = 0; attempt < 50; attempt++) {
                    for (int c = 0; c < d; c++) q3[(bh * l + j) * d + c] = (float) r.nextDouble(-2, 2);
                    int[][][] bk3 = hashes(att, dims, q3);
                    if (bk3[bh][0][j] == bk[bh][0][j] && bk3[bh][1][j] == bk[bh][1][j]) {
                        changed++;
                        keep = null;
                        break;
                    }
                }
                if (keep != null) System.arraycopy(keep, 0, q3, (bh * l + j) * d, d);
            }
        assertTrue(changed > 2 * (l - t - 1) / 2, "too few later queries were redrawn: " + changed);
        assertTrue(Arrays.deepEquals(bk, hashes(att, dims, q3)), "the buckets are unchanged");
        assertPrefixes(att, dims, q, v, q3, v2, t, true);
        assertPrefixes(new LshAttention(VEC, false, 4, 2, 5, 9), dims, q, v, q3, v2, t, false);
    }

    /** Outputs of positions ≤ t of (q, v) and (q2, v2): bit-identical when same, else some must differ. */
    static void assertPrefixes(LshAttention att, Dims dims, float[] q, float[] v, float[] q2, float[] v2, int t,
                               boolean same) {
        int l = dims.lq(), d = dims.dim();
        float[] a = new float[dims.qSize()], b = new float[dims.qSize()];
        att.forward(dims, q, q, v, null, a);
        att.forward(dims, q2, q2, v2, null, b);
        boolean equal = true;
        for (int bh = 0; bh < dims.bh(); bh++) {
            float[] pa = Arrays.copyOfRange(a, bh * l * d, (bh * l + t + 1) * d);
            float[] pb = Arrays.copyOfRange(b, bh * l * d, (bh * l + t + 1) * d);
            if (same) assertArrayEquals(pa, pb, att.name() + ": outputs up to t depend on later positions");
            equal &= Arrays.equals(pa, pb);
        }
        if (!same) assertFalse(equal, att.name() + ": the change after t must reach earlier outputs");
    }

    @ParameterizedTest(name = "causal={0}")
    @MethodSource("bools")
    void maskedKeysHaveNoEffect(boolean causal) {
        SplittableRandom r = new SplittableRandom(41);
        int l = 50, d = 8;
        Dims dims = Dims.self(2, 2, l, d);
        float[] q = GradientCheckTest.rand(r, dims.qSize(), -2, 2), v = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] dout = GradientCheckTest.rand(r, dims.qSize(), -1, 1), mask = GradientCheckTest.mask(r, 2, l);
        float[] v2 = v.clone();
        int masked = 0;
        for (int bh = 0; bh < dims.bh(); bh++)
            for (int j = 0; j < l; j++)
                if (mask[(bh / 2) * l + j] == 0f) {
                    masked++;
                    for (int c = 0; c < d; c++) v2[(bh * l + j) * d + c] = (float) r.nextDouble(-5, 5);
                }
        assertTrue(masked > 0, "the mask drew no masked key");
        for (Kernels kern : new Kernels[]{SCALAR, VEC}) {
            LshAttention att = new LshAttention(kern, causal, 8, 3, 6, 2);
            float[] a = new float[dims.qSize()], b = new float[dims.qSize()], c = new float[dims.qSize()];
            float[] dq = new float[q.length], dk = new float[q.length], dv = new float[q.length];
            att.backward(att.forward(dims, q, q, v, mask, a), dout, dq, dk, dv);
            att.forward(dims, q, q, v2, mask, b);
            assertArrayEquals(a, b, "masked values changed the output");
            att.forward(dims, q, q, v2, null, c);
            assertFalse(Arrays.equals(a, c), "without the mask those values matter");
            for (int bh = 0; bh < dims.bh(); bh++)
                for (int j = 0; j < l; j++)
                    if (mask[(bh / 2) * l + j] == 0f)
                        for (int x = 0; x < d; x++) assertEquals(0f, dv[(bh * l + j) * d + x], "masked key: dv = 0");
        }
    }

    @Test
    void validatesAndRecyclesItsState() {
        assertThrows(IllegalArgumentException.class, () -> new LshAttention(SCALAR, false, 3, 1, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> new LshAttention(SCALAR, false, 0, 1, 4, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LshAttention(SCALAR, false, 2, 0, 4, 0));
        assertTrue(e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LshAttention(SCALAR, false, 2, 1, -3, 0));
        assertTrue(e.getMessage().contains("-3"), e.getMessage());
        LshAttention att = new LshAttention(VEC, true, 4, 2, 8, 0);
        assertEquals("reformer/causal", att.name());
        assertEquals("reformer", new LshAttention(VEC, false, 1, 1, 1, 0).name());
        Dims cross = new Dims(1, 1, 4, 6, 8);
        assertThrows(IllegalArgumentException.class, () -> new LshAttention(VEC, false, 2, 1, 2, 0)
                .forward(cross, new float[32], new float[48], new float[48], null, new float[32]));
        assertArrayEquals(att.rotation(8, 1), att.rotation(8, 1), "the rotations are fixed");
        assertArrayEquals(att.rotation(8, 1), new LshAttention(SCALAR, false, 4, 2, 3, 0).rotation(8, 1),
                "the rotations depend on (seed, round) only");
        assertFalse(Arrays.equals(att.rotation(8, 0), att.rotation(8, 1)), "rounds hash differently");
        SplittableRandom r = new SplittableRandom(51);
        Dims dims = Dims.self(2, 2, 70, 8);
        float[] q = GradientCheckTest.rand(r, dims.qSize(), -1, 1), v = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] dout = GradientCheckTest.rand(r, dims.qSize(), -1, 1);
        float[] a = new float[q.length], b = new float[q.length], da = new float[q.length], db = new float[q.length];
        float[] dk = new float[q.length], dv = new float[q.length];
        Attention.Saved s = att.forward(dims, q, q, v, null, a);
        att.backward(s, dout, da, dk, dv);
        float[] q2 = GradientCheckTest.rand(r, dims.qSize(), -1, 1);
        Attention.Saved s2 = att.forward(dims, q2, q2, v, null, b);
        assertTrue(s2 == att.forward(dims, q, q, v, null, b, s2), "a Saved of the same shape is recycled");
        att.backward(s2, dout, db, dk, dv);
        assertArrayEquals(a, b, "recycled state: same output bits");
        assertArrayEquals(da, db, "recycled state: same gradient bits");
    }

    static Stream<Boolean> bools() { return Stream.of(false, true); }
}
