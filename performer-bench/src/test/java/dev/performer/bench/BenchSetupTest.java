package dev.performer.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.performer.attention.Attention;
import dev.performer.attention.Dims;
import dev.performer.attention.ExactAttention;
import dev.performer.attention.FavorAttention;
import dev.performer.attention.FeatureMap;
import dev.performer.attention.Projection;
import dev.performer.kernel.Kernels;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Each benchmark's setup and body, at small sizes: outputs are finite and equal what a direct
 * call of the library computes on the same inputs (so the benchmarks time the real thing).
 */
class BenchSetupTest {

    private static final int L = 192;   // three causal chunks, not a multiple of the 256-row stream block
    private static final Blackhole BH = new Blackhole(
            "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    private static AttentionBench attention(String method, String direction) {
        AttentionBench b = new AttentionBench();
        b.method = method;
        b.direction = direction;
        b.L = L;
        b.backend = "vector";
        b.threads = 2;
        b.setup();
        return b;
    }

    private static void assertFinite(String what, float[] x) {
        for (int i = 0; i < x.length; i++)
            assertTrue(Float.isFinite(x[i]), what + " is not finite at " + i + ": " + x[i]);
    }

    /** The library's own layer for a method, built without the benchmark's code. */
    private static Attention direct(String method, Kernels kern, boolean causal) {
        return switch (method) {
            case "favor-softmax" -> FavorAttention.random(kern, FeatureMap.softmax(1e-6f), 256, 64, causal,
                    Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, 42);
            case "favor-relu" -> FavorAttention.random(kern, FeatureMap.relu(1e-3f), 256, 64, causal,
                    Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, 42);
            case "exact" -> new ExactAttention(kern, causal);
            default -> throw new IllegalArgumentException(method);
        };
    }

    @Test
    void attentionForwardAndBackwardMatchDirectCalls() {
        for (String method : new String[] {"favor-softmax", "favor-relu", "exact"}) {
            for (String direction : new String[] {"bidir", "causal"}) {
                String what = method + "/" + direction;
                AttentionBench b = attention(method, direction);
                try (Kernels kern = Backends.kernels("vector", 2)) {
                    Attention ref = direct(method, kern, direction.equals("causal"));
                    Dims dims = Dims.self(1, 8, L, 64);
                    int n = dims.qSize();
                    float[] out = new float[n], dq = new float[n], dk = new float[n], dv = new float[n];
                    Attention.Saved s = ref.forward(dims, b.q, b.k, b.v, null, out);
                    ref.backward(s, b.dout, dq, dk, dv);

                    Attention.Saved before = b.saved;
                    assertArrayEquals(out, b.forward(), what + " forward");
                    assertSame(before, b.saved, what + ": forward must recycle its Saved");
                    b.forwardBackward(BH);
                    assertSame(before, b.saved, what + ": forward+backward must recycle its Saved");
                    assertArrayEquals(out, b.out, what + " out");
                    assertArrayEquals(dq, b.dq, what + " dq");
                    assertArrayEquals(dk, b.dk, what + " dk");
                    assertArrayEquals(dv, b.dv, what + " dv");
                    assertFinite(what + " out", b.out);
                    assertFinite(what + " dq", b.dq);
                    assertFinite(what + " dk", b.dk);
                    assertFinite(what + " dv", b.dv);
                } finally {
                    b.tearDown();
                }
            }
        }
    }

    @Test
    void identityReturnsValues() {
        AttentionBench b = attention("identity", "causal");
        try {
            assertArrayEquals(b.v, b.forward());
            b.forwardBackward(BH);
            assertArrayEquals(b.dout, b.dv);
        } finally {
            b.tearDown();
        }
    }

    @Test
    void featureMapMatchesFavorAttentionFeatures() {
        for (String map : new String[] {"softmax", "relu"}) {
            for (String rows : new String[] {"query", "key"}) {
                FeatureMapBench b = new FeatureMapBench();
                b.map = map;
                b.rows = rows;
                b.L = L;
                b.backend = "vector";
                b.threads = 2;
                b.setup();
                try {
                    FeatureMap fm = map.equals("softmax") ? FeatureMap.softmax(1e-6f) : FeatureMap.relu(1e-3f);
                    FavorAttention ref = FavorAttention.random(b.kern, fm, 256, 64, false,
                            Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, 42);
                    float[] want = ref.features(Dims.self(1, 8, L, 64), b.x, rows.equals("query"));
                    float[] got = b.features();
                    assertFinite(map + "/" + rows, got);
                    assertArrayEquals(want, got, map + "/" + rows);
                } finally {
                    b.tearDown();
                }
            }
        }
    }

    /** C = op(A)·op(B) in double, for (rows×cols) row-major operands. */
    private static void assertGemm(String what, boolean ta, boolean tb, int m, int n, int k,
                                   float[] a, float[] b, float[] c) {
        assertFinite(what, c);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0, abs = 0;
                for (int p = 0; p < k; p++) {
                    double x = ta ? a[p * m + i] : a[i * k + p], y = tb ? b[j * k + p] : b[p * n + j];
                    sum += x * y;
                    abs += Math.abs(x * y);
                }
                assertEquals(sum, c[i * n + j], 1e-5 * abs + 1e-6, what + " at (" + i + ", " + j + ")");
            }
        }
    }

    @Test
    void gemmShapesComputeTheirProducts() {
        GemmBench bench = new GemmBench();
        GemmBench.FavorShapes st = new GemmBench.FavorShapes();
        st.L = L;
        st.backend = "vector";
        st.threads = 2;
        st.setup();
        try {
            int m = GemmBench.M, d = GemmBench.D;
            assertGemm("features", false, true, L, m, d, st.x, st.w, bench.features(st));
            assertGemm("state", true, false, m, d, L, st.phiK, st.v, bench.state(st));
            assertGemm("output", false, false, L, d, m, st.phiQ, st.s, bench.output(st));
        } finally {
            st.tearDown();
        }
        GemmBench.Square sq = new GemmBench.Square();
        sq.N = 96;
        sq.backend = "vector";
        sq.threads = 2;
        sq.setup();
        try {
            assertGemm("square", false, false, 96, 96, 96, sq.a, sq.b, bench.square(sq));
        } finally {
            sq.tearDown();
        }
    }

    @Test
    void chunkProductsComputeTheirProductsInBothForms() {
        ChunkBench b = new ChunkBench();
        b.backend = "vector";
        b.threads = 1;
        b.setup();
        try {
            int t = ChunkBench.T, m = ChunkBench.M, d = ChunkBench.D;
            float[] lower = b.scoresLower().clone();
            assertArrayEquals(b.scoresFull().clone(), lower, "scores: the two forms");
            float[] full = new float[t * t];   // the double reference of Φq Φkᵀ, masked below
            for (int i = 0; i < t; i++)
                for (int j = 0; j <= i; j++) {
                    double sum = 0;
                    for (int p = 0; p < m; p++) sum += (double) b.phiQ[i * m + p] * b.phiK[j * m + p];
                    full[i * t + j] = (float) sum;
                }
            for (int i = 0; i < t * t; i++) assertEquals(full[i], lower[i], 1e-4 * Math.abs(full[i]) + 1e-6, "a " + i);
            assertGemm("times values", false, false, t, d, t, b.a, b.v, b.timesValuesTriangular().clone());
            assertArrayEquals(b.timesValuesFull().clone(), b.timesValuesTriangular().clone(), "a·V: the two forms");
            assertGemm("times features", false, false, t, m, t, b.a, b.phiK, b.timesFeaturesTriangular().clone());
            assertArrayEquals(b.timesFeaturesFull().clone(), b.timesFeaturesTriangular().clone(), "a·Φk");
            assertGemm("transposed", true, false, t, m, t, b.a, b.phiQ,
                    b.transposedTimesFeaturesTriangular().clone());
            assertArrayEquals(b.transposedTimesFeaturesFull().clone(), b.transposedTimesFeaturesTriangular().clone(),
                    "aᵀ·Φq: the two forms");
        } finally {
            b.tearDown();
        }
    }
}
