package dev.performer.kernel;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every fast backend against the scalar reference, over awkward sizes, transposes, offsets, strides. */
class KernelsDifferentialTest {

    static final double U = Math.ulp(1f) / 2; // unit roundoff of float32, 2^-24
    static final Kernels REF = new ScalarKernels();
    static final java.util.Optional<OpenBlas> BLAS = OpenBlas.load();
    /**
     * The fast backends; OpenBLAS joins when installed. It is optional, except where
     * {@link #openblasRequired()}: .ci/run installs it and runs with CI=true. OPENBLAS_CORETYPE (set by
     * ./performer against misdetection) is not needed: it changes speed, not results (measured: the
     * test passes with OPENBLAS_CORETYPE=Prescott, and in 8 s, as with the detected core).
     */
    static final Kernels[] FAST = java.util.stream.Stream.concat(
            java.util.stream.Stream.of(new VectorKernels(1), new VectorKernels(2)),
            BLAS.stream().map(b -> new OpenBlasKernels(b, 2))).toArray(Kernels[]::new);

    /**
     * A missing OpenBLAS fails the run, not just skips its part, on CI (CI set, not "false") or with
     * -Dperformer.requireOpenblas=true.
     */
    static boolean openblasRequired() {
        String ci = System.getenv("CI");
        return Boolean.getBoolean("performer.requireOpenblas")
                || (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false") && !ci.equals("0"));
    }

    @Test
    void listsTheBackendsUnderTest() {
        // the serial and the parallel GEMM paths of the vector backend, and OpenBLAS exactly when it loads
        assertEquals(BLAS.isPresent() ? "vector/1 vector/2 openblas/2" : "vector/1 vector/2",
                String.join(" ", java.util.Arrays.stream(FAST).map(k -> k.name() + "/" + k.threads()).toList()));
    }

    @Test
    void openblasIsTestedWhenInstalledAndRequiredOnCi() {
        if (BLAS.isEmpty() && openblasRequired())
            fail("OpenBLAS (libopenblas.so.0) not found or not loadable, but it is required here (CI="
                    + System.getenv("CI")
                    + ", performer.requireOpenblas=" + System.getProperty("performer.requireOpenblas")
                    + "): install libopenblas0-pthread (.ci/run does) or point PERFORMER_OPENBLAS at the library");
        assumeTrue(BLAS.isPresent(), "OpenBLAS not installed: its backend is not tested here"
                + " (optional; CI=true or -Dperformer.requireOpenblas=true makes it required)");
        assertTrue(java.util.Arrays.stream(FAST).anyMatch(k -> k instanceof OpenBlasKernels),
                "OpenBLAS loaded but not under test");
    }

    @AfterAll
    static void close() { for (Kernels k : FAST) k.close(); }

    @Test
    void runsAtTheWidthThePropertyAsksFor() {
        // performer-core/pom.xml runs this class at 4, 8 and 16 lanes, each in a JVM of its own
        String lanes = System.getProperty(VectorKernels.LANES_PROPERTY);
        int want = lanes == null ? FloatVector.SPECIES_PREFERRED.length() : Integer.parseInt(lanes.trim());
        assertEquals(want, VectorKernels.LANES, VectorKernels.LANES_PROPERTY + "=" + lanes);
        assertEquals(want * Float.SIZE, VectorKernels.S.vectorBitSize(), "species " + VectorKernels.S);
        // 14 rows of two vectors with 512-bit vectors (32 registers), 6 below (16 registers)
        assertEquals(2 * want, VectorKernels.NR, "micro-tile width: two vectors");
        assertEquals(want >= 16 ? 14 : 6, VectorKernels.MR, "micro-tile rows");
        assertTrue(new VectorKernels(1).describe().contains(want + " float lanes"), new VectorKernels(1).describe());
    }

    @Test
    void lanesPropertyIsValidated() {
        assertEquals(4, VectorKernels.species("4").length());
        assertEquals(8, VectorKernels.species("8").length());
        assertEquals(16, VectorKernels.species("16").length());
        assertEquals(FloatVector.SPECIES_PREFERRED, VectorKernels.species(null));
        for (String bad : new String[]{"12", "", "eight", "32"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VectorKernels.species(bad));
            assertTrue(e.getMessage().contains(VectorKernels.LANES_PROPERTY)
                    && e.getMessage().contains("\"" + bad + "\""), e.getMessage());
        }
    }

    static float[] rand(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    static Stream<Arguments> gemmShapes() {
        int[] sizes = {1, 7, 15, 16, 17, 33, 65};
        Stream.Builder<Arguments> b = Stream.builder();
        int seed = 0;
        for (int m : sizes) for (int n : sizes) for (int k : new int[]{1, 17, 65})
            b.add(Arguments.of(m, n, k, seed++));
        // the 14-row panels of AVX-512: one and a 6-row rest, one and a 7-row rest, two, two and one row
        for (int m : new int[]{20, 21, 28, 29}) b.add(Arguments.of(m, 47, 33, seed++));
        // block boundaries: > MC rows (140 or 144), > NC columns, > KC depth, and FAVOR+-like skinny shapes
        b.add(Arguments.of(141, 70, 257, seed++));
        b.add(Arguments.of(145, 70, 257, seed++));
        b.add(Arguments.of(300, 2100, 300, seed++));
        b.add(Arguments.of(513, 256, 64, seed++));
        b.add(Arguments.of(256, 64, 700, seed++));
        b.add(Arguments.of(700, 64, 256, seed++));
        b.add(Arguments.of(5, 3000, 9, seed++));
        // leading dimension of A above DIRECT_LDA: A packed in MC×KC blocks (op(A) = A, then op(A) = Aᵀ)
        b.add(Arguments.of(145, 40, 1100, seed++));
        b.add(Arguments.of(1030, 20, 30, seed++));
        // one row past ROW_PARALLEL_FLOPS: its columns split over two threads (a tail of 6 columns)
        b.add(Arguments.of(1, 1030, 600, seed++));
        return b.build();
    }

    @ParameterizedTest(name = "gemm m={0} n={1} k={2}")
    @MethodSource("gemmShapes")
    void gemmMatchesReference(int m, int n, int k, int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
            int lda = aCols + r.nextInt(3), ldb = bCols + r.nextInt(3), ldc = n + r.nextInt(3);
            int aOff = r.nextInt(5), bOff = r.nextInt(5), cOff = r.nextInt(5);
            float[] a = rand(r, aOff + aRows * lda + 3), b = rand(r, bOff + bRows * ldb + 3),
                    c0 = rand(r, cOff + m * ldc + 3);
            float alpha = t == 3 ? -0.75f : 1.25f, beta = switch (t) { case 0 -> 0f; case 1 -> 1f; default -> 0.5f; };
            if (beta == 0f) for (int i = 0; i < m; i++) c0[cOff + i * ldc] = Float.NaN; // beta=0 must overwrite
            float[] want = c0.clone();
            REF.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, want, cOff, ldc);
            double[] absSums = new double[m * n]; // Σ_p |a·b| per element of C, once for all backends
            for (int row = 0; row < m; row++)
                for (int p = 0; p < k; p++) {
                    double av = Math.abs(ta ? a[aOff + p * lda + row] : a[aOff + row * lda + p]);
                    for (int col = 0; col < n; col++)
                        absSums[row * n + col] += av * Math.abs(tb ? b[bOff + col * ldb + p] : b[bOff + p * ldb + col]);
                }
            for (Kernels fast : FAST) {
                float[] got = c0.clone();
                fast.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, got, cOff, ldc);
                for (int i = 0; i < got.length; i++) {
                    int row = (i - cOff) / Math.max(ldc, 1), col = (i - cOff) - row * ldc;
                    boolean inside = i >= cOff && row < m && col < n;
                    if (!inside) {
                        assertEquals(Float.floatToRawIntBits(c0[i]), Float.floatToRawIntBits(got[i]),
                                "element outside C touched at " + i);
                        continue;
                    }
                    double absSum = absSums[row * n + col];
                    double c0v = beta == 0f ? 0 : Math.abs(beta * c0[i]);
                    // each result is within (k+2)·u·(|alpha|·Σ|a·b| + |beta·c|) of the exact value
                    final int fr = row, fc = col, fi = i;
                    double bound = 2 * (k + 2) * U * (Math.abs(alpha) * absSum + c0v) + 1e-30;
                    assertTrue(Math.abs(got[i] - want[i]) <= bound,
                            () -> fast.describe() + " ta=" + ta + " tb=" + tb + " (" + fr + "," + fc + "): got "
                                    + got[fi] + " want " + want[fi] + " bound " + bound);
                }
            }
        }
    }

    static Stream<Arguments> fewRowShapes() {
        Stream.Builder<Arguments> b = Stream.builder();
        int seed = 500;
        for (int m : new int[]{2, 3, 4, 6, 7, 13, 16})   // 4-row blocks, then 2 rows, then 1
            for (int n : new int[]{1, 17, 64, 100, 130, 384})
                for (int k : new int[]{1, 70, 130}) b.add(Arguments.of(m, n, k, seed++));
        return b.build();
    }

    /**
     * Batched decoding's premise: a product of a few rows (the unpacked blocks of 4 or 2 rows and 4 or 2 vectors,
     * the single rows, the tail columns) gives each row the bits of the one-row product, for alpha 1
     * and not, with B's rows taken in blocks (a wide ldb makes them shorter than 64).
     */
    @ParameterizedTest(name = "few rows m={0} n={1} k={2}")
    @MethodSource("fewRowShapes")
    void aFewRowsGiveEachRowTheOneRowBits(int m, int n, int k, int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int ldb : new int[]{n, 1100 + n})
            for (float alpha : new float[]{1f, 0.7f}) {
                int lda = k + 1, ldc = n + 2;
                float[] a = rand(r, m * lda), bm = rand(r, k * ldb), c0 = rand(r, m * ldc);
                for (Kernels fast : FAST) {
                    float[] all = c0.clone(), one = c0.clone();
                    fast.gemm(false, false, m, n, k, alpha, a, 0, lda, bm, 0, ldb, 1f, all, 0, ldc);
                    for (int i = 0; i < m; i++)
                        fast.gemm(false, false, 1, n, k, alpha, a, i * lda, lda, bm, 0, ldb, 1f, one, i * ldc, ldc);
                    if (fast instanceof VectorKernels)
                        assertArrayEquals(one, all, fast.describe() + " ldb=" + ldb + " alpha=" + alpha);
                }
            }
    }

    /**
     * A decoding step split by columns: columns [j0, j1) of a few-row product (B and C offset by j0,
     * the same ldb and ldc) have the bits of the same columns of the whole product, for bounds on
     * multiples of 16 floats (the widest vector) and the last part ending at n.
     */
    @ParameterizedTest(name = "column parts m={0} n={1} k={2}")
    @MethodSource("fewRowShapes")
    void columnPartsOfAFewRowProductHaveTheWholeProductsBits(int m, int n, int k, int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int lda = k + 1, ldb = n + 3, ldc = n + 2;
        float[] a = rand(r, m * lda), bm = rand(r, k * ldb), c0 = rand(r, m * ldc);
        for (Kernels fast : FAST) {
            if (!(fast instanceof VectorKernels)) continue;
            float[] whole = c0.clone();
            fast.gemm(false, false, m, n, k, 1f, a, 0, lda, bm, 0, ldb, 0f, whole, 0, ldc);
            for (int cut = 16; cut < n; cut += 48) {
                float[] parts = c0.clone();
                fast.gemm(false, false, m, cut, k, 1f, a, 0, lda, bm, 0, ldb, 0f, parts, 0, ldc);
                fast.gemm(false, false, m, n - cut, k, 1f, a, 0, lda, bm, cut, ldb, 0f, parts, cut, ldc);
                assertArrayEquals(whole, parts, fast.describe() + " cut at " + cut);
            }
        }
    }

    /**
     * The decoder's output layer: a few rows against a transposed B (m ≤ 16) give each row the bits of
     * the one-row product, also when Bᵀ is taken in blocks of rows (k = 130 makes them 63 rows).
     */
    @ParameterizedTest(name = "few rows times Bt m={0} n={1} k={2}")
    @MethodSource("fewRowShapes")
    void aFewRowsTimesATransposedMatrixGiveEachRowTheOneRowBits(int m, int n, int k, int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int lda = k + 1, ldb = k + 5, ldc = n + 2;
        float[] a = rand(r, m * lda), bm = rand(r, n * ldb), c0 = rand(r, m * ldc);
        for (float alpha : new float[]{1f, 0.7f})
            for (Kernels fast : FAST) {
                if (!(fast instanceof VectorKernels)) continue;
                float[] all = c0.clone(), one = c0.clone();
                fast.gemm(false, true, m, n, k, alpha, a, 0, lda, bm, 0, ldb, 1f, all, 0, ldc);
                for (int i = 0; i < m; i++)
                    fast.gemm(false, true, 1, n, k, alpha, a, i * lda, lda, bm, 0, ldb, 1f, one, i * ldc, ldc);
                assertArrayEquals(one, all, fast.describe() + " alpha=" + alpha);
            }
    }

    @Test
    void rowPartsAreWholePanelsDealtOutEvenly() {
        int mr = VectorKernels.MR;
        for (int parts = 1; parts <= 5; parts++)
            for (int m = 0; m <= 700; m++) {
                assertEquals(0, VectorKernels.panelStart(0, parts, m), "m=" + m);
                assertEquals(m, VectorKernels.panelStart(parts, parts, m), "m=" + m + " parts=" + parts);
                int least = Integer.MAX_VALUE, most = 0;
                for (int p = 0; p < parts; p++) {
                    int r0 = VectorKernels.panelStart(p, parts, m), r1 = VectorKernels.panelStart(p + 1, parts, m);
                    assertEquals(0, r0 % mr, "part " + p + " starts inside a panel, m=" + m);
                    assertTrue(r1 >= r0, "parts out of order, m=" + m);
                    least = Math.min(least, r1 - r0);
                    most = Math.max(most, r1 - r0);
                }
                assertTrue(most - least <= mr, "m=" + m + " parts=" + parts + ": " + least + " to " + most + " rows");
            }
        if (mr == 14) assertEquals(126, VectorKernels.panelStart(1, 2, 256));
    }

    static Stream<Arguments> inPlaceShapes() {
        Stream.Builder<Arguments> b = Stream.builder();
        int seed = 300;
        for (int m : new int[]{17, 20, 29, 64, 141, 300})
            for (int k : new int[]{17, 64, VectorKernels.KC})
                for (int n : new int[]{32, 47, 64}) b.add(Arguments.of(m, n, k, seed++));
        return b.build();
    }

    /**
     * A at a row stride of KC is read in place by the 14-row panels of AVX-512 (at any other stride it is
     * packed, and 6-row panels read it in place up to DIRECT_LDA): the same sums either way, so the
     * product, its lower triangle and a lower-triangular A's product keep their bits when the same A
     * sits at the stride KC + 3 instead, for alpha 1 and not, edge panels and edge tiles included.
     */
    @ParameterizedTest(name = "A in place m={0} n={1} k={2}")
    @MethodSource("inPlaceShapes")
    void aRowStrideOfKcGivesTheBitsOfAnyOther(int m, int n, int k, int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int kc = VectorKernels.KC, ldc = n + 1, rows = Math.max(m, n);
        float[] a = rand(r, rows * kc), wide = new float[rows * (kc + 3)], bm = rand(r, Math.max(k, rows) * n);
        for (int i = 0; i < rows; i++) System.arraycopy(a, i * kc, wide, i * (kc + 3), kc);
        for (Kernels fast : FAST) {
            if (!(fast instanceof VectorKernels)) continue;
            for (float alpha : new float[]{1f, -0.75f}) {
                float[] c0 = rand(r, Math.max(m, n) * ldc), x = c0.clone(), y = c0.clone();
                fast.gemm(false, false, m, n, k, alpha, a, 0, kc, bm, 0, n, 1f, x, 0, ldc);
                fast.gemm(false, false, m, n, k, alpha, wide, 0, kc + 3, bm, 0, n, 1f, y, 0, ldc);
                assertArrayEquals(y, x, fast.describe() + " gemm alpha=" + alpha);
                if (n <= k) {                                   // gemmLower: A n×k, B k×n
                    x = c0.clone(); y = c0.clone();
                    fast.gemmLower(false, false, n, k, alpha, a, 0, kc, bm, 0, n, x, 0, ldc);
                    fast.gemmLower(false, false, n, k, alpha, wide, 0, kc + 3, bm, 0, n, y, 0, ldc);
                    assertArrayEquals(y, x, fast.describe() + " gemmLower alpha=" + alpha);
                }
                if (m <= kc) {                                  // gemmTriangular: L m×m, B m×n
                    x = c0.clone(); y = c0.clone();
                    fast.gemmTriangular(false, m, n, alpha, a, 0, kc, bm, 0, n, 0.5f, x, 0, ldc);
                    fast.gemmTriangular(false, m, n, alpha, wide, 0, kc + 3, bm, 0, n, 0.5f, y, 0, ldc);
                    assertArrayEquals(y, x, fast.describe() + " gemmTriangular alpha=" + alpha);
                }
            }
        }
    }

    /** Square sizes around the 6- and 14-row panels, the 16/32-column tiles, KC = 256 and the 2-thread split. */
    static Stream<Arguments> triangleShapes() {
        Stream.Builder<Arguments> b = Stream.builder();
        int seed = 100;
        for (int n : new int[]{1, 5, 6, 7, 16, 17, 21, 29, 33, 64, 65, 300})
            for (int k : new int[]{1, 17, 64, 257}) b.add(Arguments.of(n, k, seed++));
        return b.build();
    }

    /** Σ_p op(A)[i][p]·op(B)[p][j] and Σ_p |…| in double. */
    static double[] exactProduct(boolean ta, boolean tb, int m, int n, int k, float[] a, int aOff, int lda,
                                 float[] b, int bOff, int ldb, boolean abs) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) {
                double av = ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                for (int j = 0; j < n; j++) {
                    double x = av * (tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);
                    out[i * n + j] += abs ? Math.abs(x) : x;
                }
            }
        return out;
    }

    @ParameterizedTest(name = "gemmLower n={0} k={1}")
    @MethodSource("triangleShapes")
    void gemmLowerGivesTheLowerTriangleOfTheProduct(int n, int k, int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            int lda = (ta ? n : k) + r.nextInt(3), ldb = (tb ? k : n) + r.nextInt(3), ldc = n + r.nextInt(3);
            int aOff = r.nextInt(5), bOff = r.nextInt(5), cOff = r.nextInt(5);
            float[] a = rand(r, aOff + (ta ? k : n) * lda + 3), b = rand(r, bOff + (tb ? n : k) * ldb + 3),
                    c0 = rand(r, cOff + n * ldc + 3);
            for (int i = 0; i < n; i++) c0[cOff + i * ldc] = Float.NaN; // C is overwritten
            float alpha = t == 3 ? -0.75f : 1.25f;
            double[] want = exactProduct(ta, tb, n, n, k, a, aOff, lda, b, bOff, ldb, false);
            double[] abs = exactProduct(ta, tb, n, n, k, a, aOff, lda, b, bOff, ldb, true);
            for (Kernels kern : allBackends()) {
                float[] got = c0.clone(), full = c0.clone();
                kern.gemmLower(ta, tb, n, k, alpha, a, aOff, lda, b, bOff, ldb, got, cOff, ldc);
                kern.gemm(ta, tb, n, n, k, alpha, a, aOff, lda, b, bOff, ldb, 0f, full, cOff, ldc);
                for (int i = 0; i < got.length; i++) {
                    int row = (i - cOff) / ldc, col = (i - cOff) - row * ldc;
                    final int fr = row, fc = col, fi = i;
                    if (i < cOff || row >= n || col >= n) {
                        assertEquals(Float.floatToRawIntBits(c0[i]), Float.floatToRawIntBits(got[i]),
                                "element outside C touched at " + i);
                    } else if (col > row) {
                        assertEquals(0f, got[i], () -> kern.describe() + " above the diagonal " + fr + "," + fc);
                    } else {
                        // the kept entries are gemm's: the same tiles, the same sums
                        assertEquals(Float.floatToRawIntBits(full[i]), Float.floatToRawIntBits(got[i]),
                                () -> kern.describe() + " differs from its gemm at " + fr + "," + fc);
                        // and within gemm's bound (k+2)·u·|alpha|·Σ|a·b| of the exact value
                        double bound = 2 * (k + 2) * U * Math.abs(alpha) * abs[row * n + col] + 1e-30;
                        assertTrue(Math.abs(got[i] - alpha * want[row * n + col]) <= bound,
                                () -> kern.describe() + " ta=" + ta + " tb=" + tb + " (" + fr + "," + fc + "): got "
                                        + got[fi] + " want " + alpha * want[fr * n + fc]);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "gemmTriangular m={0} n={1}")
    @MethodSource("triangleShapes")
    void gemmTriangularEqualsTheFullProductOfTheTriangle(int m, int n, int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int t = 0; t < 4; t++) {
            boolean tl = (t & 1) != 0;
            // t = 2, 3: a leading dimension above DIRECT_LDA, where A is packed in blocks
            int ldl = (t >= 2 ? 1030 : m) + r.nextInt(3), ldb = n + r.nextInt(3), ldc = n + r.nextInt(3);
            int lOff = r.nextInt(5), bOff = r.nextInt(5), cOff = r.nextInt(5);
            float[] l = rand(r, lOff + m * ldl + 3), b = rand(r, bOff + m * ldb + 3), c0 = rand(r, cOff + m * ldc + 3);
            for (int i = 0; i < m; i++) Arrays.fill(l, lOff + i * ldl + i + 1, lOff + i * ldl + m, 0f);
            float alpha = tl ? -0.75f : 1.25f, beta = switch (t) { case 0 -> 0f; case 1 -> 1f; default -> 0.5f; };
            if (beta == 0f) for (int i = 0; i < m; i++) c0[cOff + i * ldc] = Float.NaN; // beta=0 must overwrite
            double[] want = exactProduct(tl, false, m, n, m, l, lOff, ldl, b, bOff, ldb, false);
            double[] abs = exactProduct(tl, false, m, n, m, l, lOff, ldl, b, bOff, ldb, true);
            for (Kernels kern : allBackends()) {
                float[] got = c0.clone(), full = c0.clone();
                kern.gemmTriangular(tl, m, n, alpha, l, lOff, ldl, b, bOff, ldb, beta, got, cOff, ldc);
                kern.gemm(tl, false, m, n, m, alpha, l, lOff, ldl, b, bOff, ldb, beta, full, cOff, ldc);
                // the skipped terms are exact zeros: the same sums as gemm's, bit for bit
                assertArrayEquals(full, got, () -> kern.describe() + " tl=" + tl + " differs from its gemm");
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        int ci = cOff + i * ldc + j;
                        double c0v = beta == 0f ? 0 : Math.abs(beta * c0[ci]);
                        double bound = 2 * (m + 2) * U * (Math.abs(alpha) * abs[i * n + j] + c0v) + 1e-30;
                        double exact = alpha * want[i * n + j] + (beta == 0f ? 0 : beta * (double) c0[ci]);
                        final int fi = i, fj = j;
                        assertTrue(Math.abs(got[ci] - exact) <= bound,
                                () -> kern.describe() + " tl=" + tl + " (" + fi + "," + fj + "): got " + got[ci]
                                        + " want " + exact);
                    }
            }
        }
    }

    static List<Kernels> allBackends() {
        List<Kernels> all = new ArrayList<>(List.of(FAST));
        all.add(REF);
        return all;
    }

    @Test
    void gemmRejectsBadShapes() {
        for (Kernels fast : FAST) {
            float[] a = new float[10], b = new float[10], c = new float[10];
            assertThrows(IndexOutOfBoundsException.class,
                    () -> fast.gemm(false, false, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4));
            assertThrows(IllegalArgumentException.class,
                    () -> fast.gemm(false, false, 2, 2, 2, 1f, a, 0, 1, b, 0, 2, 0f, c, 0, 2));
            assertThrows(IllegalArgumentException.class,
                    () -> fast.gemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, a, 0, 2));
        }
    }

    static Stream<Arguments> vectorSizes() {
        return Stream.of(1, 2, 7, 15, 16, 17, 31, 33, 65, 100, 257).map(Arguments::of);
    }

    @ParameterizedTest(name = "element-wise n={0}")
    @MethodSource("vectorSizes")
    void elementwiseMatchesReference(int n) {
        SplittableRandom r = new SplittableRandom(1000 + n);
        int off = 3;
        float[] x = rand(r, n + 2 * off), y = rand(r, n + 2 * off);
        double absDot = 0, absSum = 0;
        for (int i = 0; i < n; i++) { absDot += Math.abs(x[off + i] * y[off + i]); absSum += Math.abs(x[off + i]); }
        for (Kernels f : FAST) {
            // reductions: two summation orders each within n·u·Σ|terms| of the exact sum
            assertEquals(REF.dot(x, off, y, off, n), f.dot(x, off, y, off, n), 2 * n * U * absDot + 1e-30, "dot");
            assertEquals(REF.sum(x, off, n), f.sum(x, off, n), 2 * n * U * absSum + 1e-30, "sum");
            assertEquals(REF.max(x, off, n), f.max(x, off, n), 0f, "max is exact");

            float[] ya = y.clone(), yb = y.clone();
            REF.axpy(0.3f, x, off, ya, off, n); f.axpy(0.3f, x, off, yb, off, n);
            // fma vs mul+add: each within 2u·(|y| + |alpha·x|) of the exact value (cancellation-safe bound)
            for (int i = 0; i < n; i++)
                assertEquals(ya[off + i], yb[off + i], 4 * U * (Math.abs(y[off + i]) + Math.abs(0.3f * x[off + i])),
                        "axpy at " + i);
            float[] sa = x.clone(), sb = x.clone();
            REF.scale(sa, off, n, -1.5f); f.scale(sb, off, n, -1.5f);
            assertArrayEquals(sa, sb, "scale is exact per element");
            float[] ma = new float[n + 2 * off], mb = new float[n + 2 * off];
            REF.mul(x, off, y, off, ma, off, n); f.mul(x, off, y, off, mb, off, n);
            assertArrayEquals(ma, mb, "mul is exact per element");

            // mulShiftSum: the same products (exact per element: one rounding of x·(y − shift) each), their sum
            // in another order within n·u·Σ|terms|
            float[] pa = x.clone(), pb = x.clone();
            float sa2 = REF.mulShiftSum(pa, off, y, off, 0.125f, n), sb2 = f.mulShiftSum(pb, off, y, off, 0.125f, n);
            assertArrayEquals(pa, pb, "mulShiftSum products");
            double absProd = 0;
            for (int i = 0; i < n; i++) absProd += Math.abs(pa[off + i]);
            assertEquals(sa2, sb2, 2 * n * U * absProd + 1e-30, "mulShiftSum sum");

            float[] ea = x.clone(), eb = x.clone();
            REF.expAffine(ea, off, n, -0.7f, 0.25f, 1e-3f); f.expAffine(eb, off, n, -0.7f, 0.25f, 1e-3f);
            // SIMD exp is accurate to a few ulp (measured ≤ 2); allow 8 ulp relative plus the affine roundings
            assertArrayClose(ea, eb, 8 * 2 * U, "expAffine");

            for (ElementwiseOp op : ElementwiseOp.values()) {
                float[] oa = new float[n + 2 * off], ob = new float[n + 2 * off];
                float[] in = x.clone();
                in[off] = 0f; // exercise the kink of relu/abs/sign
                REF.map(op, in, off, oa, off, n); f.map(op, in, off, ob, off, n);
                for (int i = 0; i < oa.length; i++)
                    assertEquals(oa[i], ob[i], mapTolerance(op, in[i], oa[i]), "map " + op + " at " + i + " of " + n);
            }
        }
    }

    static Stream<Arguments> rankOneShapes() {
        return Stream.of(1, 7, 64).flatMap(m -> Stream.of(1, 7, 8, 31, 32, 33, 64, 100).map(n -> Arguments.of(m, n)));
    }

    @ParameterizedTest(name = "rank-one update then read m={0} n={1}")
    @MethodSource("rankOneShapes")
    void rankOneUpdateThenReadMatchesTheDefinition(int m, int n) {
        SplittableRandom r = new SplittableRandom(31L * m + n);
        int so = 5, ao = 2, xo = 3, bo = 1, yo = 4;
        float[] s0 = rand(r, so + m * n + 3), a = rand(r, ao + m), x = rand(r, xo + n), b = rand(r, bo + m);
        for (Kernels f : java.util.stream.Stream.concat(java.util.stream.Stream.of(REF), java.util.Arrays.stream(FAST))
                .toList()) {
            float[] s = s0.clone(), y = new float[yo + n + 2];
            java.util.Arrays.fill(y, 9f);
            f.rankOneUpdateThenRead(s, so, m, n, a, ao, x, xo, b, bo, y, yo);
            double[] yRef = new double[n], yAbs = new double[n];
            for (int j = 0; j < m; j++)
                for (int c = 0; c < n; c++) {
                    int at = so + j * n + c;
                    double want = s0[at] + (double) a[ao + j] * x[xo + c];
                    // one update: mul+add or fma, at most two roundings of terms bounded by |S| + |a·x|
                    assertEquals(want, s[at], 2 * U * (Math.abs(s0[at]) + Math.abs((double) a[ao + j] * x[xo + c])),
                            f.name() + " S[" + j + "][" + c + "]");
                    yRef[c] += b[bo + j] * want;
                    yAbs[c] += Math.abs(b[bo + j]) * (Math.abs(s0[at]) + Math.abs((double) a[ao + j] * x[xo + c]));
                }
            // m products of S rounded as above, summed: (m + 3)·u·Σ|b|·(|S| + |a·x|) (cancellation-safe)
            for (int c = 0; c < n; c++)
                assertEquals(yRef[c], y[yo + c], (m + 3) * U * yAbs[c] + 1e-30, f.name() + " y[" + c + "]");
            assertEquals(9f, y[yo - 1], f.name() + " y before its range untouched");
            assertEquals(9f, y[yo + n], f.name() + " y after its range untouched");
            assertEquals(s0[so - 1], s[so - 1], "S before its rows untouched");
            assertEquals(s0[so + m * n], s[so + m * n], "S after its rows untouched");
            // fused or not, the same operations in the same order as the axpy composition
            float[] s2 = s0.clone(), y2 = new float[n];
            for (int j = 0; j < m; j++) {
                f.axpy(a[ao + j], x, xo, s2, so + j * n, n);
                f.axpy(b[bo + j], s2, so + j * n, y2, 0, n);
            }
            assertArrayEquals(s2, s, f.name() + " S equals the axpy composition");
            assertArrayEquals(y2, java.util.Arrays.copyOfRange(y, yo, yo + n), f.name() + " y equals the axpys");
        }
    }

    /**
     * Error bound of a SIMD map against the double-evaluated definition. Polynomial exp: a few ulp
     * (measured ≤ 2, allow 8) relative, plus the affine roundings. GELU forms: exp(−2u) also
     * carries the relative error of its argument (≈ 4 roundings of |2u|), and GELU' is a sum of
     * two terms whose error is relative to the terms, not to their (possibly cancelling) sum.
     */
    static double mapTolerance(ElementwiseOp op, float x, float want) {
        if (op != ElementwiseOp.GELU && op != ElementwiseOp.GELU_GRAD)
            return 16 * U * Math.abs(want) + Float.MIN_NORMAL;
        double u2 = 2 * ElementwiseOp.GELU_C * (x + ElementwiseOp.GELU_A * x * x * x);
        double rel = (16 + 8 * Math.abs(u2)) * U;
        // the polynomial exp(−2u) overflows to +inf from −2u ≈ 88.4 (n = 128), flushing GELU values below
        // |x|·e^−88 to −0
        if (op == ElementwiseOp.GELU) return rel * Math.abs(want) + Math.abs(x) * Math.exp(-88) + Float.MIN_NORMAL;
        double e = Math.exp(-u2), s = 1 / (1 + e);
        double du = 2 * ElementwiseOp.GELU_C * (1 + 3 * ElementwiseOp.GELU_A * x * x);
        return rel * (s + Math.abs(x * du * e * s * s)) + (1 + Math.abs(x * du)) * Math.exp(-88)
                + Float.MIN_NORMAL; // same flush
    }

    @Test
    void geluMapsMatchTheDefinitionOverAWideRange() {
        // [-12, 12] in steps of 1/64 covers the overflow of exp(−2u) (x < −10) and the saturation
        int n = 24 * 64 + 1;
        float[] x = new float[n + 1];
        for (int i = 0; i < n; i++) x[i] = -12f + i / 64f;
        x[n] = Float.NaN;
        for (Kernels f : FAST)
            for (ElementwiseOp op : new ElementwiseOp[]{ElementwiseOp.GELU, ElementwiseOp.GELU_GRAD}) {
                float[] want = new float[n + 1], got = new float[n + 1];
                REF.map(op, x, 0, want, 0, n + 1);
                f.map(op, x, 0, got, 0, n + 1);
                for (int i = 0; i < n; i++)
                    assertEquals(want[i], got[i], mapTolerance(op, x[i], want[i]),
                            f.name() + " " + op + " at x = " + x[i]);
                assertTrue(Float.isNaN(got[n]), op + "(NaN)");
            }
    }

    static void assertArrayClose(float[] want, float[] got, double rel, String what) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            double tol = rel * Math.abs(want[i]) + Float.MIN_NORMAL;
            assertEquals(want[i], got[i], tol, what + " at " + i);
        }
    }

    @Test
    void vectorExpHandlesSpecialValuesAndGivesTheSameBitsInBodyAndTail() {
        for (Kernels f : FAST) {
            float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                    -100f, 100f, 0f, -0f, 1f, -87f, 88f};
            // whole vectors at any width: every value in the vector body; then each alone (n = 1 < lanes):
            // the scalar tail
            int body = (special.length + VectorKernels.LANES - 1) / VectorKernels.LANES * VectorKernels.LANES;
            float[] y = java.util.Arrays.copyOf(special, body);
            f.expAffine(y, 0, body, 0f, 1f, 0f);
            for (int i = 0; i < special.length; i++) {
                float[] tail = {special[i]};
                f.expAffine(tail, 0, 1, 0f, 1f, 0f);
                assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(tail[0]),
                        "body vs tail for " + special[i]);
                float want = (float) Math.exp(special[i]);
                if (Float.isNaN(want)) assertTrue(Float.isNaN(y[i]));
                else if (Float.isInfinite(want)) assertEquals(want, y[i]);
                // 8 ulp, and results below the smallest normal float flush to 0 (documented)
                else assertEquals(want, y[i], 8 * 2 * U * Math.abs(want) + Float.MIN_NORMAL, "exp(" + special[i] + ")");
            }
        }
    }

    @Test
    void parallelForVisitsEachIndexOnceAndNestedGemmIsCorrect() {
        for (Kernels f : FAST) {
            int n = 37;
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            SplittableRandom r = new SplittableRandom(7);
            float[] a = rand(r, 200 * 64), b = rand(r, 64 * 256);
            float[] want = new float[200 * 256];
            REF.gemm(false, false, 200, 256, 64, 1f, a, 0, 64, b, 0, 256, 0f, want, 0, 256);
            float[] serial = new float[200 * 256];
            f.gemm(false, false, 200, 256, 64, 1f, a, 0, 64, b, 0, 256, 0f, serial, 0, 256);
            float[][] outs = new float[n][200 * 256];
            f.parallelFor(n, i -> {
                seen.incrementAndGet(i);
                f.gemm(false, false, 200, 256, 64, 1f, a, 0, 64, b, 0, 256, 0f, outs[i], 0, 256);
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, seen.get(i), "index " + i);
                assertArrayEquals(serial, outs[i], "nested gemm runs the same serial code: bit-identical");
            }
        }
    }
}
