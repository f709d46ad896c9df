package dev.performer.attention;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Properties of the attention operators that hold whatever the reference. */
class AttentionPropertiesTest {

    static final double U = Math.ulp(1f) / 2;
    static final Kernels KERN = new VectorKernels(2);

    @AfterAll
    static void close() { KERN.close(); }

    static float[] rand(SplittableRandom r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (scale * (2 * r.nextDouble() - 1));
        return x;
    }

    static float[] run(Attention a, Dims dims, float[] q, float[] k, float[] v, float[] mask) {
        float[] out = new float[dims.qSize()];
        a.forward(dims, q, k, v, mask, out);
        return out;
    }

    /** Overwrites rows [t+1, L) of every batch-head of x with fresh values scaled by s. */
    static float[] changeAfter(float[] x, Dims dims, int t, SplittableRandom r, double s) {
        float[] y = x.clone();
        int l = dims.lq(), d = dims.dim();
        for (int bh = 0; bh < dims.bh(); bh++)
            for (int i = (bh * l + t + 1) * d; i < (bh + 1) * l * d; i++) y[i] = (float) (s * (2 * r.nextDouble() - 1));
        return y;
    }

    static void assertPrefixIdentical(float[] a, float[] b, Dims dims, int t, String what) {
        int l = dims.lq(), d = dims.dim();
        for (int bh = 0; bh < dims.bh(); bh++)
            for (int i = bh * l * d; i < (bh * l + t + 1) * d; i++)
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]),
                        what + ": output at row " + (i / d) % l + " changed");
    }

    @Test
    void causalOutputsUpToTIgnoreEverythingAfterT() {
        SplittableRandom r = new SplittableRandom(1);
        Dims dims = Dims.self(2, 3, 150, 16);
        float[] q = rand(r, dims.qSize(), 1), k = rand(r, dims.kSize(), 1), v = rand(r, dims.kSize(), 1);
        // the largest key sits at position 0, so that changing later keys (kept smaller) leaves the
        // softmax key stabilizer, one max over all keys by the documented convention, unchanged
        for (int bh = 0; bh < dims.bh(); bh++) for (int c = 0; c < 16; c++) k[bh * 150 * 16 + c] = 3f;
        FeatureMap[] maps = {FeatureMap.softmax(1e-6f), FeatureMap.softmaxHyp(1e-4f), FeatureMap.relu(1e-3f),
                FeatureMap.softmaxTrig(), FeatureMap.softmaxOpt(1e-6f)};
        for (FeatureMap map : maps) {
            for (int chunk : new int[]{64, 7}) {
                FavorAttention a = new FavorAttention(KERN, map,
                        Projection.draw(Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, 32, 16, 5),
                        32, 16, true, chunk);
                float[] base = run(a, dims, q, k, v, null);
                for (int t : new int[]{0, 63, 64, 100, 148}) {
                    float[] q2 = changeAfter(q, dims, t, r, 1), k2 = changeAfter(k, dims, t, r, 0.5),
                            v2 = changeAfter(v, dims, t, r, 1);
                    assertPrefixIdentical(base, run(a, dims, q2, k2, v2, null), dims, t,
                            map + " chunk " + chunk + " t=" + t);
                }
            }
        }
        ExactAttention ex = new ExactAttention(KERN, true);
        float[] base = run(ex, dims, q, k, v, null);
        assertPrefixIdentical(base, run(ex, dims, changeAfter(q, dims, 70, r, 1), changeAfter(k, dims, 70, r, 1),
                changeAfter(v, dims, 70, r, 1), null), dims, 70, "exact");
    }

    @Test
    void maskedKeysHaveNoEffect() {
        SplittableRandom r = new SplittableRandom(2);
        Dims dims = Dims.self(2, 2, 40, 8);
        float[] q = rand(r, dims.qSize(), 1), k = rand(r, dims.kSize(), 1), v = rand(r, dims.kSize(), 1);
        float[] mask = new float[2 * 40];
        for (int i = 0; i < mask.length; i++) mask[i] = r.nextDouble() < 0.6 ? 1f : 0f;
        for (int bh = 0; bh < dims.bh(); bh++) for (int c = 0; c < 8; c++) {
            k[bh * 40 * 8 + c] = 2f;
            mask[(bh / 2) * 40] = 1f;
        }
        assertTrue(java.util.stream.IntStream.range(0, mask.length).anyMatch(i -> mask[i] == 0f),
                "some keys are masked");
        float[] k2 = k.clone(), v2 = v.clone();
        for (int bh = 0; bh < dims.bh(); bh++)
            for (int j = 0; j < 40; j++)
                if (mask[(bh / 2) * 40 + j] == 0f)
                    for (int c = 0; c < 8; c++) {
                        k2[(bh * 40 + j) * 8 + c] *= -0.5f;
                        v2[(bh * 40 + j) * 8 + c] = 1e6f;
                    }
        for (boolean causal : new boolean[]{false, true}) {
            Attention[] atts = {
                    FavorAttention.random(KERN, FeatureMap.softmax(1e-6f), 16, 8, causal, Projection.Type.ORTHOGONAL,
                            Projection.Scaling.CHI, 3),
                    FavorAttention.random(KERN, FeatureMap.relu(1e-3f), 16, 8, causal, Projection.Type.IID,
                            Projection.Scaling.CHI, 3),
                    FavorAttention.random(KERN, FeatureMap.softmaxOpt(1e-6f), 16, 8, causal,
                            Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, 3),
                    new ExactAttention(KERN, causal)};
            for (Attention a : atts) {
                float[] o1 = run(a, dims, q, k, v, mask), o2 = run(a, dims, q, k2, v2, mask);
                for (int i = 0; i < o1.length; i++)
                    assertEquals(Float.floatToRawIntBits(o1[i]), Float.floatToRawIntBits(o2[i]), a.name() + " at " + i);
            }
        }
    }

    @Test
    void recurrentEqualsParallelCausal() {
        SplittableRandom r = new SplittableRandom(3);
        int h = 3, l = 77, d = 16, m = 32;
        Dims dims = Dims.self(1, h, l, d);
        float[] q = rand(r, dims.qSize(), 1), k = rand(r, dims.kSize(), 1), v = rand(r, dims.kSize(), 1);
        // eps = 0: the stabilizers cancel exactly, so the running-max recurrent form equals the
        // parallel form up to rounding; generalized maps have no stabilizer at any eps.
        FeatureMap[] maps = {FeatureMap.softmax(0f), FeatureMap.softmaxHyp(0f), FeatureMap.relu(1e-3f),
                FeatureMap.softmaxTrig(), FeatureMap.softmaxOpt(0f), FeatureMap.softmaxOpt(0f, -0.4)};
        for (FeatureMap map : maps) {
            FavorAttention par = FavorAttention.random(KERN, map, m, d, true, Projection.Type.ORTHOGONAL,
                    Projection.Scaling.CHI, 9);
            float[] want = run(par, dims, q, k, v, null);
            float[] got = recurrent(RecurrentFavor.of(KERN, par, h), dims, q, k, v);
            double tol = 8 * U * (Math.sqrt(d) + Math.sqrt(l) + Math.sqrt(par.features()));
            assertTrue(maxRel(got, want) <= tol, map + ": recurrent vs parallel " + maxRel(got, want));
        }
    }

    @Test
    void recurrentWithEpsMatchesItsRunningMaxDefinition() {
        // with eps > 0 the recurrent form is the parallel form whose key stabilizer is the max over
        // the keys seen so far; check it against the double reference evaluated that way
        SplittableRandom r = new SplittableRandom(4);
        int h = 2, l = 40, d = 8, m = 16;
        float eps = 1e-3f;
        Dims dims = Dims.self(1, h, l, d);
        float[] q = rand(r, dims.qSize(), 1.5), k = rand(r, dims.kSize(), 1.5), v = rand(r, dims.kSize(), 1);
        float[] w = Projection.draw(Projection.Type.IID, Projection.Scaling.CHI, m, d, 11);
        RecurrentFavor rec = new RecurrentFavor(KERN, FeatureMap.softmax(eps), w, m, h, d);
        float[] got = recurrent(rec, dims, q, k, v);
        RefAttention ref = new RefAttention(RefAttention.Map.SOFTMAX, eps, w, m, d);
        double[] qd = GradientCheckTest.toDouble(q), kd = GradientCheckTest.toDouble(k),
                vd = GradientCheckTest.toDouble(v);
        double[] want = new double[dims.qSize()];
        for (int t = 0; t < l; t++) {
            Dims pre = Dims.self(1, h, t + 1, d);
            double[] qp = new double[pre.qSize()], kp = new double[pre.qSize()], vp = new double[pre.qSize()];
            for (int hh = 0; hh < h; hh++) {
                System.arraycopy(qd, hh * l * d, qp, hh * (t + 1) * d, (t + 1) * d);
                System.arraycopy(kd, hh * l * d, kp, hh * (t + 1) * d, (t + 1) * d);
                System.arraycopy(vd, hh * l * d, vp, hh * (t + 1) * d, (t + 1) * d);
            }
            double[] o = ref.forward(pre, qp, kp, vp, null, true, ref.stabilizers(pre, qp, kp));
            for (int hh = 0; hh < h; hh++) System.arraycopy(o, (hh * (t + 1) + t) * d, want, (hh * l + t) * d, d);
        }
        double e = GradientCheckTest.relErr(got, want), tol = 8 * U * (Math.sqrt(d) + Math.sqrt(l) + Math.sqrt(m));
        assertTrue(e <= tol, "recurrent vs running-max reference " + e);
        // and its state does not grow with the prefix
        assertEquals((long) h * (m * d + m + d + 1), rec.stateFloats());
    }

    /**
     * Stepping several sequences' states together (their projections as one product per chunk of up
     * to 16 rows) gives each sequence the bits of stepping it alone: 5 sequences of 3 heads (one
     * 15-row chunk), 6 of 4 (chunks of 4 and 2), 2 of 17 (one per chunk), for the SM+, SMhyp+ and
     * ReLU maps.
     */
    @Test
    void batchedStepsEqualSingleStepsBitForBit() {
        int d = 8, m = 16, steps = 12;
        for (FeatureMap map : new FeatureMap[]{FeatureMap.softmax(1e-3f), FeatureMap.softmaxHyp(1e-3f),
                FeatureMap.relu(1e-3f)})
            for (int[] nh : new int[][]{{5, 3}, {6, 4}, {2, 17}}) {
                int n = nh[0], h = nh[1], hd = h * d, stride = 3 * hd + 5;
                SplittableRandom r = new SplittableRandom(n * 31L + h);
                float[] w = Projection.draw(Projection.Type.IID, Projection.Scaling.CHI, m, d, 11);
                RecurrentFavor.Projection p = new RecurrentFavor.Projection(map, w, m, d);
                RecurrentFavor[] together = new RecurrentFavor[n], alone = new RecurrentFavor[n];
                for (int i = 0; i < n; i++) {
                    together[i] = new RecurrentFavor(KERN, p, h);
                    alone[i] = new RecurrentFavor(KERN, map, w, m, h, d);
                }
                RecurrentFavor.Batch batch = new RecurrentFavor.Batch(p, h);
                for (int t = 0; t < steps; t++) {
                    float[] x = rand(r, n * stride, 1.5);
                    float[] got = new float[n * hd], want = new float[n * hd];
                    batch.step(together, n, x, 1, 1 + hd, 1 + 2 * hd, stride, got, 0, hd);
                    for (int i = 0; i < n; i++)
                        alone[i].step(x, 1 + i * stride, x, 1 + hd + i * stride, x, 1 + 2 * hd + i * stride, want,
                                i * hd);
                    assertArrayEquals(want, got, map.name() + " n=" + n + " h=" + h + " step " + t);
                }
            }
    }

    static float[] recurrent(RecurrentFavor rec, Dims dims, float[] q, float[] k, float[] v) {
        int h = dims.heads(), l = dims.lq(), d = dims.dim();
        float[] qt = new float[h * d], kt = new float[h * d], vt = new float[h * d], ot = new float[h * d];
        float[] out = new float[dims.qSize()];
        for (int t = 0; t < l; t++) {
            for (int hh = 0; hh < h; hh++) {
                System.arraycopy(q, (hh * l + t) * d, qt, hh * d, d);
                System.arraycopy(k, (hh * l + t) * d, kt, hh * d, d);
                System.arraycopy(v, (hh * l + t) * d, vt, hh * d, d);
            }
            rec.step(qt, 0, kt, 0, vt, 0, ot, 0);
            for (int hh = 0; hh < h; hh++) System.arraycopy(ot, hh * d, out, (hh * l + t) * d, d);
        }
        return out;
    }

    static double maxRel(float[] got, float[] want) {
        double err = 0, max = 0;
        for (int i = 0; i < got.length; i++) {
            err = Math.max(err, Math.abs(got[i] - want[i]));
            max = Math.max(max, Math.abs(want[i]));
        }
        return err / max;
    }

    // ------------------------------------------------------------ estimator properties

    /** Unstabilized SM+ estimate of exp(x~·y~) for one draw of W. */
    static double smPlus(float[] x, float[] y, float[] w, int m, int d) {
        FeatureMap f = FeatureMap.softmax(0f);
        float[] ex = new float[m], ey = new float[m];
        f.exponents(KERN, x, 0, d, w, m, ex, 0);
        f.exponents(KERN, y, 0, d, w, m, ey, 0);
        double s = 0;
        for (int j = 0; j < m; j++) s += Math.exp(ex[j] + ey[j]) / m;
        return s;
    }

    /** SM-trig estimate of exp(x~·y~) for one draw of W (stabilizer-free map). */
    static double smTrig(float[] x, float[] y, float[] w, int m, int d) {
        FeatureMap f = FeatureMap.softmaxTrig();
        float[] px = new float[2 * m], py = new float[2 * m];
        f.forward(KERN, x, 0, 1, d, w, m, true, px, 0);
        f.forward(KERN, y, 0, 1, d, w, m, false, py, 0);
        double s = 0;
        for (int j = 0; j < 2 * m; j++) s += (double) px[j] * py[j];
        return s;
    }

    static double kernelValue(float[] x, float[] y, int d) {
        double s = 0;
        for (int c = 0; c < d; c++) s += (double) x[c] * y[c];
        return Math.exp(s / Math.sqrt(d));
    }

    @Test
    void softmaxPositiveEstimatorIsUnbiased() {
        int d = 8, m = 16, draws = 4000;
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 3; trial++) {
            float[] x = rand(r, d, 0.8), y = rand(r, d, 0.8);
            double want = kernelValue(x, y, d), sum = 0, sum2 = 0;
            for (int s = 0; s < draws; s++) {
                double e = smPlus(x, y,
                        Projection.draw(Projection.Type.IID, Projection.Scaling.CHI, m, d, 1000L * trial + s), m, d);
                sum += e; sum2 += e * e;
            }
            double mean = sum / draws, se = Math.sqrt((sum2 / draws - mean * mean) / draws);
            // 4 standard errors: a false alarm has probability 6e-5 per trial
            assertEquals(want, mean, 4 * se,
                    "trial " + trial + ": mean " + mean + " ± " + se + " vs exp(x·y/√D) " + want);
        }
    }

    static double mse(boolean positive, Projection.Type type, float[] x, float[] y, int m, int d, int draws,
                      long seed) {
        double want = kernelValue(x, y, d), s = 0;
        for (int i = 0; i < draws; i++) {
            float[] w = Projection.draw(type, Projection.Scaling.CHI, m, d, seed + i);
            double e = positive ? smPlus(x, y, w, m, d) : smTrig(x, y, w, m, d);
            s += (e - want) * (e - want);
        }
        return s / draws;
    }

    // ------------------------------------------------------------ OPRF (FAVOR++)

    /** Unstabilized OPRF estimate of exp(x~·y~) for one draw of W at parameter a. */
    static double oprf(float[] x, float[] y, float[] w, int m, int d, double a) {
        FeatureMap f = FeatureMap.softmaxOpt(0f, a);
        float[] p = f.prepare(w, m, d, a, null), ex = new float[m], ey = new float[m];
        f.exponents(KERN, x, 0, d, p, m, ex, 0);
        f.exponents(KERN, y, 0, d, p, m, ey, 0);
        double s = 0;
        for (int j = 0; j < m; j++) s += Math.exp((double) ex[j] + ey[j]) / m;
        return s;
    }

    /** The OPRF second moment for one feature, from E[exp(uᵀw + c|w|²)] = (1−2c)^(−D/2)·exp(|u|²/(2(1−2c))). */
    static double oprfSecondMoment(float[] x, float[] y, int d, double a) {
        double s = Math.pow(d, -0.25), xy = 0, sum2 = 0;
        for (int c = 0; c < d; c++) { xy += s * x[c] * s * y[c]; sum2 += Math.pow(s * (x[c] + y[c]), 2); }
        return Math.exp(d * Math.log(1 - 4 * a) - 0.5 * d * Math.log(1 - 8 * a) + sum2 / (1 - 8 * a) + 2 * xy);
    }

    @Test
    void oprfEstimatorIsUnbiasedWithItsClosedFormVariance() {
        int d = 8, m = 16, draws = 6000;
        SplittableRandom r = new SplittableRandom(12);
        float[] x = rand(r, d, 1.2), y = rand(r, d, 1.2);
        double want = kernelValue(x, y, d);
        // A = 0 is SM+. Positive A (up to 1/8) has a heavy-tailed estimator whose sample variance and its error bar
        // are both unreliable at this many draws (A = 0.04 reads half the closed form): only A <= 0 is checked
        for (double a : new double[]{-0.4, -0.15, 0.0}) {
            double[] e = new double[draws];
            double sum = 0;
            for (int s = 0; s < draws; s++) {
                float[] w = Projection.draw(Projection.Type.IID, Projection.Scaling.CHI, m, d, 7000L + s);
                e[s] = oprf(x, y, w, m, d, a);
                sum += e[s];
            }
            double mean = sum / draws, v = 0, v2 = 0;
            for (double t : e) { v += (t - mean) * (t - mean); v2 += Math.pow(t - mean, 4); }
            v /= draws - 1;
            double se = Math.sqrt(v / draws);
            // 4 standard errors: a false alarm has probability 6e-5 per A
            assertEquals(want, mean, 4 * se, "A=" + a + ": mean " + mean + " ± " + se + " vs exp(x·y/√D) " + want);
            double closed = (oprfSecondMoment(x, y, d, a) - want * want) / m;
            double seVar = Math.sqrt((v2 / draws - v * v) / draws);   // standard error of the sample variance
            assertEquals(closed, v, 5 * seVar,
                    "A=" + a + ": variance " + v + " ± " + seVar + " vs closed form " + closed);
        }
    }

    @Test
    void optimalAMinimisesTheSecondMomentAndRhoIsThePairMean() {
        // the closed form against the reference's golden-section minimiser of the same objective
        // 1e-6: golden-section search finds a smooth minimum only to about √(machine eps) ≈ 1e-8 times its scale
        for (double rho : new double[]{0, 0.05, 0.3, 1, 4, 25})
            assertEquals(RefAttention.minimiseA(rho), FeatureMap.optimalA(rho), 1e-6, "rho=" + rho);
        assertEquals(0.0, FeatureMap.optimalA(0), 0.0, "A* = 0 (SM+) at rho = 0");
        // O(L·D) rho against the all-pairs mean, with masked keys and L_q ≠ L_k
        SplittableRandom r = new SplittableRandom(13);
        Dims dims = new Dims(2, 1, 9, 13, 8);
        float[] q = rand(r, dims.qSize(), 1.5), k = rand(r, dims.kSize(), 1.5), mask = new float[2 * 13];
        for (int j = 0; j < mask.length; j++) mask[j] = j % 13 == 0 || r.nextDouble() < 0.6 ? 1f : 0f;
        RefAttention ref = new RefAttention(RefAttention.Map.OPRF, 0, new float[8], 1, 8);
        double[] qd = GradientCheckTest.toDouble(q), kd = GradientCheckTest.toDouble(k),
                md = GradientCheckTest.toDouble(mask);
        for (int bh = 0; bh < 2; bh++) {
            double got = FeatureMap.rho(q, bh * 9 * 8, 9, k, bh * 13 * 8, 13, 8, mask, bh * 13);
            assertEquals(ref.pairRho(dims, qd, kd, md, bh), got, 1e-12 * 50, "rho of head " + bh);
        }
        // the minimiser lowers the mean log second moment below SM+'s (A = 0) over these pairs
        double rho = ref.pairRho(dims, qd, kd, md, 0), a = FeatureMap.optimalA(rho);
        java.util.function.DoubleUnaryOperator g =
                x -> Math.log(1 - 4 * x) - 0.5 * Math.log(1 - 8 * x) + rho / (1 - 8 * x);
        assertTrue(g.applyAsDouble(a) < g.applyAsDouble(0) && g.applyAsDouble(a) <= g.applyAsDouble(a + 1e-3)
                && g.applyAsDouble(a) <= g.applyAsDouble(a - 1e-3), "A* = " + a + " is the minimiser");
    }

    @Test
    void oprfOrthogonalFeaturesBeatIid() {
        int d = 16, m = 16, draws = 3000;
        SplittableRandom r = new SplittableRandom(14);
        float[] x = rand(r, d, 1.2), y = rand(r, d, 1.2);
        double a = -0.15, want = kernelValue(x, y, d), iid = 0, ort = 0;
        for (int i = 0; i < draws; i++) {
            iid += Math.pow(oprf(x, y, Projection.draw(Projection.Type.IID, Projection.Scaling.CHI, m, d, 300 + i),
                    m, d, a) - want, 2);
            ort += Math.pow(oprf(x, y, Projection.draw(Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, m, d,
                    300 + i), m, d, a) - want, 2);
        }
        assertTrue(ort < 0.9 * iid, "orthogonal OPRF MSE " + ort / draws + " not below IID " + iid / draws);
    }

    /**
     * The claim of issue 13 at the attention level, where SM+'s heavy-tailed kernel errors average over many
     * pairs (a kernel-level sample MSE of SM+ at large norms is ruled by rare draws and reads low): q, k, v
     * N(0, 1), D = 16, L = 256, M = 256 orthogonal features, 24 projections. The gain is modest here: a numpy
     * check of the same setting (3 input seeds, 40 projections each) gave SM+ / OPRF output MSE ratios of
     * 1.5 in the mean and 1.1-1.2 in the median; this test's inputs read 1.23 in the median. It checks that
     * OPRF is better at all (a wrong sign or scale of A makes it worse), not by how much.
     */
    @Test
    void oprfAttentionIsCloserToExactThanSmPlusAtUnitScale() {
        SplittableRandom r = new SplittableRandom(15);
        Dims dims = Dims.self(1, 1, 256, 16);
        float[] q = new float[dims.qSize()], k = new float[dims.kSize()], v = new float[dims.kSize()];
        for (float[] x : new float[][]{q, k, v}) for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] exact = run(new ExactAttention(KERN, false), dims, q, k, v, null);
        int draws = 24;
        double[] sm = new double[draws], op = new double[draws];
        for (int seed = 0; seed < draws; seed++) {
            float[] w = Projection.draw(Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, 256, 16, 40 + seed);
            float[] a = run(new FavorAttention(KERN, FeatureMap.softmax(0f), w, 256, 16, false), dims, q, k, v, null);
            float[] b = run(new FavorAttention(KERN, FeatureMap.softmaxOpt(0f), w, 256, 16, false), dims, q, k, v,
                    null);
            for (int i = 0; i < exact.length; i++) {
                sm[seed] += Math.pow(a[i] - exact[i], 2) / exact.length;
                op[seed] += Math.pow(b[i] - exact[i], 2) / exact.length;
            }
        }
        java.util.Arrays.sort(sm);
        java.util.Arrays.sort(op);
        double smMed = (sm[draws / 2 - 1] + sm[draws / 2]) / 2, opMed = (op[draws / 2 - 1] + op[draws / 2]) / 2;
        assertTrue(opMed < smMed, "median OPRF output MSE " + opMed + " not below SM+ " + smMed);
    }

    @Test
    void orthogonalFeaturesHaveLowerErrorThanIid() {
        int d = 16, m = 16, draws = 3000;
        SplittableRandom r = new SplittableRandom(6);
        float[] x = rand(r, d, 1.2), y = rand(r, d, 1.2);
        double iid = mse(true, Projection.Type.IID, x, y, m, d, draws, 100);
        double ort = mse(true, Projection.Type.ORTHOGONAL, x, y, m, d, draws, 100);
        assertTrue(ort < 0.8 * iid, "orthogonal MSE " + ort + " not below IID " + iid);
    }

    @Test
    void positiveFeaturesBeatTrigonometricWhereTheKernelIsSmall() {
        int d = 8, m = 32, draws = 2000;
        float[] x = new float[d], y = new float[d];
        // x~·y~ ≈ −1.7 (kernel value ≈ 0.18) while |x~|, |y~| ≈ 1.3: trig variance grows with exp(|x~|² + |y~|²)
        double a = 1.3 * Math.pow(d, 0.25);
        x[0] = (float) a; y[0] = (float) -a; x[1] = 0.3f; y[1] = -0.2f;
        double pos = mse(true, Projection.Type.IID, x, y, m, d, draws, 7);
        double trig = mse(false, Projection.Type.IID, x, y, m, d, draws, 7);
        assertTrue(pos * 100 < trig, "positive MSE " + pos + " not far below trig " + trig);
    }

    @Test
    void favorConvergesToExactAttentionAsFeaturesGrow() {
        SplittableRandom r = new SplittableRandom(8);
        Dims dims = Dims.self(1, 2, 64, 16);
        float[] q = rand(r, dims.qSize(), 1), k = rand(r, dims.kSize(), 1), v = rand(r, dims.kSize(), 1);
        float[] exact = run(new ExactAttention(KERN, false), dims, q, k, v, null);
        int[] ms = {16, 64, 256, 1024};
        double[] err = new double[ms.length];
        for (int i = 0; i < ms.length; i++) {
            double s = 0;
            for (int seed = 0; seed < 6; seed++) {
                float[] got = run(FavorAttention.random(KERN, FeatureMap.softmax(0f), ms[i], 16, false,
                        Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, seed), dims, q, k, v, null);
                for (int j = 0; j < got.length; j++) s += (got[j] - exact[j]) * (got[j] - exact[j]);
            }
            err[i] = s / (6.0 * exact.length);
        }
        for (int i = 1; i < ms.length; i++)
            assertTrue(err[i] < err[i - 1],
                    "MSE did not fall from M=" + ms[i - 1] + " to " + ms[i] + ": " + java.util.Arrays.toString(err));
        // the estimator's variance falls like 1/M: 64× more features should cut the MSE by well over 16×
        assertTrue(err[3] * 16 < err[0], "MSE at M=1024 " + err[3] + " vs M=16 " + err[0]);
    }
}
