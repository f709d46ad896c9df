package dev.performer.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * FAVOR+ with a head's rows split into parts (one head on two threads: bidirectional partial states,
 * the causal parallel scan) against the same attention computed head by head on one thread: the
 * same outputs and gradients up to the rounding of another summation order.
 */
class FavorRowPartsTest {

    static final Kernels ONE = new VectorKernels(1), TWO = new VectorKernels(2), FOUR = new VectorKernels(4);

    @AfterAll
    static void close() { ONE.close(); TWO.close(); FOUR.close(); }

    static Stream<Arguments> cases() {
        Object[][] maps = {
            {"softmax", (Supplier<FeatureMap>) () -> FeatureMap.softmax(1e-3f)},
            {"softmax-hyp", (Supplier<FeatureMap>) () -> FeatureMap.softmaxHyp(1e-3f)},
            {"softmax-trig", (Supplier<FeatureMap>) FeatureMap::softmaxTrig},
            {"relu", (Supplier<FeatureMap>) () -> FeatureMap.relu(1e-3f)},
            {"oprf-adaptive", (Supplier<FeatureMap>) () -> FeatureMap.softmaxOpt(1e-3f)}};
        return Stream.of(maps).flatMap(mp -> Stream.of(false, true).flatMap(causal -> Stream.of(false, true)
                .flatMap(masked -> Stream.of(700, 1100).map(l -> Arguments.of(mp[0], mp[1], causal, masked, l)))));
    }

    @ParameterizedTest(name = "{0} causal={2} masked={3} L={4}")
    @MethodSource("cases")
    void partsEqualWholeHeads(String name, Supplier<FeatureMap> map, boolean causal, boolean masked, int l) {
        int d = 16, m = 32;
        Dims dims = Dims.self(1, 1, l, d);
        SplittableRandom r = new SplittableRandom(l * 7L + name.hashCode() + (causal ? 1 : 0) + (masked ? 2 : 0));
        float[] q = GradientCheckTest.rand(r, dims.qSize(), -1, 1), k = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] v = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] dout = GradientCheckTest.rand(r, dims.qSize(), -1, 1);
        float[] mask = masked ? GradientCheckTest.mask(r, 1, l) : null;
        float[] w = Projection.draw(Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, m, d, 3);
        float[][] want = run(new FavorAttention(ONE, map.get(), w, m, d, causal), dims, q, k, v, mask, dout, 1);
        int blocks = causal ? (l + 63) / 64 : (l + 255) / 256;
        // two threads split both passes of bidirectional attention and causal backward (the causal forward
        // splits from four); four threads split everything
        for (Kernels kern : new Kernels[]{TWO, FOUR}) {
            int split = FavorAttention.rowParts(1, kern.threads(), blocks, l);
            assertTrue(split >= 2, "the case splits the head: " + split);
            int fwd = causal && kern.threads() < FavorAttention.CAUSAL_SCAN_THREADS ? 1 : split;
            float[][] got = run(new FavorAttention(kern, map.get(), w, m, d, causal), dims, q, k, v, mask, dout, fwd);
            String[] names = {"out", "dq", "dk", "dv"};
            // float32 sums of L terms in another order (and one rescale of partial states): ~u·√L relative,
            // a few times over for the feature exponentials; bound 2e-5
            for (int i = 0; i < 4; i++) {
                double e = GradientCheckTest.relErr(got[i], GradientCheckTest.toDouble(want[i]));
                assertTrue(e < 2e-5, name + " " + names[i] + " on " + kern.threads() + " threads: rel err " + e);
            }
        }
    }

    /**
     * The causal backward's reverse sweep takes the features its forward sweep kept: the same gradients,
     * bit for bit, as recomputing them (the path beyond {@link FavorAttention#FEATURE_CACHE_FLOATS}),
     * head by head on one thread and over a head's parts on two.
     */
    static Stream<Arguments> causalCases() { return cases().filter(a -> (Boolean) a.get()[2]); }

    @ParameterizedTest(name = "{0} causal masked={3} L={4}")
    @MethodSource("causalCases")
    void causalBackwardKeepsTheFeaturesItWouldRecompute(String name, Supplier<FeatureMap> map, boolean causal,
                                                         boolean masked, int l) {
        int d = 16, m = 32;
        Dims dims = Dims.self(1, 2, l, d);
        SplittableRandom r = new SplittableRandom(l * 11L + name.hashCode() + (masked ? 2 : 0));
        float[] q = GradientCheckTest.rand(r, dims.qSize(), -1, 1), k = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] v = GradientCheckTest.rand(r, dims.kSize(), -1, 1);
        float[] dout = GradientCheckTest.rand(r, dims.qSize(), -1, 1);
        float[] mask = masked ? GradientCheckTest.mask(r, 1, l) : null;
        float[] w = Projection.draw(Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, m, d, 3);
        for (Kernels kern : new Kernels[]{ONE, FOUR}) { // FOUR: 2 heads on 4 threads split into parts
            FavorAttention kept = new FavorAttention(kern, map.get(), w, m, d, true);
            FavorAttention recomputed = new FavorAttention(kern, map.get(), w, m, d, true);
            recomputed.featureCacheFloats = 0;
            int parts = kern == ONE ? 1 : FavorAttention.rowParts(2, 4, (l + 63) / 64, l);
            float[][] a = run(kept, dims, q, k, v, mask, dout, parts);
            float[][] b = run(recomputed, dims, q, k, v, mask, dout, parts);
            String[] names = {"out", "dq", "dk", "dv"};
            for (int i = 0; i < 4; i++)
                assertArrayEquals(b[i], a[i], name + " " + names[i] + " on " + kern.threads() + " threads");
        }
    }

    static float[][] run(FavorAttention att, Dims dims, float[] q, float[] k, float[] v, float[] mask, float[] dout,
                         int parts) {
        float[] out = new float[dims.qSize()], dq = new float[q.length], dk = new float[k.length];
        float[] dv = new float[v.length];
        Attention.Saved s = att.forward(dims, q, k, v, mask, out);
        assertEquals(parts, FavorAttention.partsOf(s), "row parts of " + att.name());
        att.backward(s, dout, dq, dk, dv);
        return new float[][]{out, dq, dk, dv};
    }

    @Test
    void rowPartsOnlyWhenHeadsDoNotFillTheThreads() {
        assertEquals(1, FavorAttention.rowParts(8, 2, 64, 4096), "8 heads on 2 threads: heads alone");
        assertEquals(1, FavorAttention.rowParts(2, 2, 64, 4096), "2 heads on 2 threads: balanced");
        assertEquals(4, FavorAttention.rowParts(1, 2, 64, 4096), "one head: about two tasks per thread");
        assertEquals(2, FavorAttention.rowParts(3, 2, 64, 4096), "3 heads on 2 threads: split in 2");
        assertEquals(1, FavorAttention.rowParts(1, 2, 64, 300), "too few rows to split");
        assertEquals(1, FavorAttention.rowParts(1, 1, 64, 4096), "one thread");
        assertEquals(2, FavorAttention.rowParts(1, 2, 2, 4096), "at most one part per block");
    }
}
