package dev.performer.kernel;

import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast backend: Vector API kernels, parallel over a private {@link Team} of threads.
 *
 * <p>GEMM follows the Goto/BLIS scheme: op(B) is packed in KC×NC blocks of NR-wide panels,
 * op(A) in MC×KC blocks of MR-tall panels (zero padded), and a register-blocked micro-kernel
 * computes an MR×NR = MR×(2·lanes) tile of C: 14×32 with 512-bit vectors (28 vector accumulators of
 * AVX-512's 32 registers), 6×16 otherwise (12 of AVX2's 16; see {@link #MR}).
 * Transposes are absorbed by the packing. Problems above {@link #PARALLEL_FLOPS} are split
 * across the pool along M (or along N when M is small); each part packs its own panels.
 *
 * <p>Vector width: {@link FloatVector#SPECIES_PREFERRED} (8 float lanes with AVX2, 16 with AVX-512),
 * unless the system property {@value #LANES_PROPERTY} is set to 4, 8 or 16, which selects the 128-,
 * 256- or 512-bit species instead (any other value fails class initialisation with an
 * {@link IllegalArgumentException} naming the property and the value). The species is read once,
 * when this class is initialised, into a {@code static final} field: C2 intrinsifies the Vector
 * API only when the species is a compile-time constant, which a static final of an initialised
 * class is, however it was computed; so one JVM runs one width, and the tests run the kernels at
 * every width in JVMs of their own (performer-core/pom.xml). A width wider than the hardware's
 * (16 lanes on AVX2) is not intrinsified: the Vector API falls back to plain Java, correct but
 * one to two orders of magnitude slower, which {@link #describe()} says. For tests, not for use.
 */
public final class VectorKernels implements Kernels {

    /** The system property that overrides the vector width: 4, 8 or 16 float lanes. */
    public static final String LANES_PROPERTY = "performer.vector.lanes";
    static final VectorSpecies<Float> S = species(System.getProperty(LANES_PROPERTY));
    static final int LANES = S.length();
    /**
     * Micro-tile rows: 14 with 512-bit vectors (AVX-512 has 32 vector registers: 28 accumulators, 2 of
     * B, a broadcast), else 6 (AVX2 has 16: 12 accumulators, 2 of B, a broadcast). On AVX-512 the
     * 14×2 tile ran a packed panel at 198 GFLOP/s on one core where 6×4 ran 140-157 (Intel Xeon,
     * one thread's FMA peak about 215): per vector of B loaded it does 14 FMAs, not 6, and its B
     * panel (32 columns × KC) fits the 48 KB L1 where 64 columns do not.
     */
    static final int MR = S.vectorBitSize() >= 512 ? 14 : 6;
    /** Vectors of C per micro-tile row. */
    static final int NV = 2;
    static final int NR = NV * LANES;
    /** Depth of a packed block. */
    static final int KC = 256;
    /** Rows of a packed A block (a multiple of MR, about 144). */
    static final int MC = 144 / MR * MR;
    /** Columns of a packed B block (a multiple of NR). */
    static final int NC = 32 * NR;
    /**
     * From this many flops a one-row product splits its columns over the team (a decoding step of one
     * sequence through a width-512 model: its 512×1536 and 512×2048 products); below it the hand-off costs
     * more than the half it saves.
     */
    static final double ROW_PARALLEL_FLOPS = 1 << 20;
    /** Below this many flops a GEMM runs on one thread (measured: splitting small GEMMs loses). */
    static final double PARALLEL_FLOPS = 1.0e7;

    private final int threads;
    private final Team team;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    /** Per-thread packing buffers. packA: MC×KC, packB: KC×NC, tile: MR×NR. */
    private static final class Scratch {
        final float[] packA = new float[MC * KC + LANES]; // + LANES: packA's whole-vector stores run past a panel
        final float[] packB = new float[KC * NC];
        final float[] tile = new float[MR * NR];
        float[] scaledRows = new float[0];                // fewRowsTimesMatrix's alpha·A, grown to the largest seen
    }

    /** The species for a value of {@value #LANES_PROPERTY}: null means the preferred species. */
    static VectorSpecies<Float> species(String lanes) {
        if (lanes == null) return FloatVector.SPECIES_PREFERRED;
        return switch (lanes.trim()) {
            case "4" -> FloatVector.SPECIES_128;
            case "8" -> FloatVector.SPECIES_256;
            case "16" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("system property " + LANES_PROPERTY
                    + " must be 4, 8 or 16 (float lanes), got \"" + lanes
                    + "\"; leave it unset for this CPU's preferred width (" + FloatVector.SPECIES_PREFERRED.length()
                    + " lanes)");
        };
    }

    /** True when {@value #LANES_PROPERTY} chose a width other than this CPU's preferred one. */
    static boolean overridden() { return S.length() != FloatVector.SPECIES_PREFERRED.length(); }

    /** True when the width is wider than the hardware's: the Vector API runs its plain-Java fallback. */
    static boolean emulated() { return S.vectorBitSize() > FloatVector.SPECIES_PREFERRED.vectorBitSize(); }

    public VectorKernels(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.team = new Team(threads, "performer-kernels");
    }

    @Override public String name() { return "vector"; }
    @Override public int threads() { return threads; }

    @Override
    public String describe() {
        String width = !overridden() ? "" : " set by " + LANES_PROPERTY + ", this CPU prefers "
                + FloatVector.SPECIES_PREFERRED.length() + (emulated() ? "; emulated in plain Java, slow" : "");
        return "vector (jdk.incubator.vector " + S + ", " + LANES + " float lanes" + width + ", micro-tile "
                + MR + "x" + NR + "), " + threads + " thread" + (threads == 1 ? "" : "s");
    }

    @Override
    public void close() {
        team.close();
    }

    // ---------------------------------------------------------------- GEMM

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        Kernels.checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        // above FEW_ROWS rows the packed path overwrites C itself when beta = 0 (gemmSerial's overwrite); the
        // one-row and few-row paths, and the packed path below FEW_ROWS rows, add to a zeroed C
        boolean overwrite = beta == 0f && k > 0 && alpha != 0f && m > FEW_ROWS;
        if (beta != 1f && !overwrite) {
            for (int i = 0; i < m; i++) {
                int row = cOff + i * ldc;
                if (beta == 0f) java.util.Arrays.fill(c, row, row + n, 0f);
                else scale(c, row, n, beta);
            }
        }
        if (k == 0 || alpha == 0f) return;
        if (m == 1 && !(transA && transB && lda != 1)) { // one row (decoding): no packing, B streamed once
            int parts = 2.0 * n * k < ROW_PARALLEL_FLOPS || n < 2 * LANES * threads || !team.available() ? 1
                    : threads;
            if (parts == 1) {
                if (transA || transB) rowTimesMatrix(transA, transB, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff);
                else fewRowsTimesMatrix(1, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, n); // C in registers
                return;
            }
            // columns in parts of whole vectors, the tail columns in the last: each column sums as on one thread
            int step = (n / parts + LANES - 1) / LANES * LANES;
            team.run((n + step - 1) / step, p -> {
                int j0 = p * step, cols = Math.min(step, n - j0);
                rowTimesMatrix(transA, transB, cols, k, alpha, a, aOff, lda, b, transB ? bOff + j0 * ldb : bOff + j0,
                        ldb, c, cOff + j0);
            });
            return;
        }
        if (m <= FEW_ROWS && !transA && !transB) {      // a few rows (batched decoding): no packing either
            fewRowsTimesMatrix(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
            return;
        }
        if (m <= FEW_ROWS && !transA && transB) {       // a few rows against Bᵀ (the decoder's output layer): each
            int nb = Math.max(1, FEW_ROWS_TB_FLOATS / Math.max(1, k)); // row as one row alone, B in blocks of rows
            for (int j0 = 0; j0 < n; j0 += nb)
                for (int i = 0; i < m; i++)
                    rowTimesMatrix(false, true, Math.min(nb, n - j0), k, alpha, a, aOff + i * lda, lda, b,
                            bOff + j0 * ldb, ldb, c, cOff + i * ldc + j0);
            return;
        }
        double flops = 2.0 * m * n * k;
        int parts = (flops < PARALLEL_FLOPS || !team.available()) ? 1 : threads;
        if (parts == 1) {
            gemmSerial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, overwrite);
            return;
        }
        if (m >= parts * 2 * MR || m >= n) {
            team.run(parts, p -> {
                int r0 = panelStart(p, parts, m), rows = panelStart(p + 1, parts, m) - r0;
                int ao = transA ? aOff + r0 : aOff + r0 * lda;
                gemmSerial(transA, transB, rows, n, k, alpha, a, ao, lda, b, bOff, ldb, c, cOff + r0 * ldc, ldc,
                        overwrite);
            });
        } else {
            int step = ((n + parts - 1) / parts + NR - 1) / NR * NR;
            team.run((n + step - 1) / step, p -> {
                int c0 = p * step, cols = Math.min(step, n - c0);
                int bo = transB ? bOff + c0 * ldb : bOff + c0;
                gemmSerial(transA, transB, m, cols, k, alpha, a, aOff, lda, b, bo, ldb, c, cOff + c0, ldc, overwrite);
            });
        }
    }

    /**
     * The first row of part p of m rows split into parts along whole MR-row panels, the panels dealt
     * out evenly (256 rows in 14-row panels over 2 parts: 126 and 130 rows; rounding each part up to
     * whole panels gave 140 and 116).
     */
    static int panelStart(int p, int parts, int m) {
        long panels = (m + MR - 1) / MR;
        return (int) Math.min(m, panels * p / parts * MR);
    }

    /** gemmSerial's block structures: none, C's lower triangle only, op(A) lower or upper triangular. */
    private static final int FULL = 0, LOWER_C = 1, LOWER_A = 2, UPPER_A = 3;

    @Override
    public void gemmLower(boolean transA, boolean transB, int n, int k, float alpha, float[] a, int aOff, int lda,
                          float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        if (n <= FEW_ROWS) { // gemm itself below 16 rows (its few-row paths), so the entries stay gemm's
            Kernels.super.gemmLower(transA, transB, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
            return;
        }
        Kernels.checkGemm(transA, transB, n, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        for (int i = 0; i < n; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
        if (n == 0 || k == 0 || alpha == 0f) return;
        structured(LOWER_C, transA, transB, n, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        // the computed tiles on the diagonal reach above it
        for (int i = 0; i + 1 < n; i++) java.util.Arrays.fill(c, cOff + i * ldc + i + 1, cOff + i * ldc + n, 0f);
    }

    @Override
    public void gemmTriangular(boolean transL, int m, int n, float alpha, float[] l, int lOff, int ldl,
                               float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (m <= FEW_ROWS) {
            gemm(transL, false, m, n, m, alpha, l, lOff, ldl, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        Kernels.checkGemm(transL, false, m, n, m, l, lOff, ldl, b, bOff, ldb, c, cOff, ldc);
        if (beta != 1f) {
            for (int i = 0; i < m; i++) {
                if (beta == 0f) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
                else scale(c, cOff + i * ldc, n, beta);
            }
        }
        if (alpha == 0f) return;
        structured(transL ? UPPER_A : LOWER_A, transL, false, m, n, m, alpha, l, lOff, ldl, b, bOff, ldb, c, cOff,
                ldc);
    }

    /** C += alpha·op(A)·op(B) with a block structure, its rows split over the team when it pays. */
    private void structured(int structure, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        int parts = 2.0 * m * n * k < PARALLEL_FLOPS || m < threads * 2 * MR || !team.available() ? 1 : threads;
        if (parts == 1) {
            gemmSerial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, structure, 0, false);
            return;
        }
        // rows in parts of whole panels; the lower-triangle structures do more work further down, so the
        // parts are not balanced (they are only used on causal chunks, serially)
        team.run(parts, p -> {
            int r0 = panelStart(p, parts, m), rows = panelStart(p + 1, parts, m) - r0;
            int ao = transA ? aOff + r0 : aOff + r0 * lda;
            gemmSerial(transA, transB, rows, n, k, alpha, a, ao, lda, b, bOff, ldb, c, cOff + r0 * ldc, ldc,
                    structure, r0, false);
        });
    }

    /**
     * c (1×n) += alpha·a (1×k)·op(B): B (k×n) as k axpy's over its rows, Bᵀ (n×k) as n dot products
     * with its rows. Packing a one-row A and its B panel costs as much as this whole product.
     */
    private void rowTimesMatrix(boolean transA, boolean transB, int n, int k, float alpha, float[] a, int aOff, int lda,
                                float[] b, int bOff, int ldb, float[] c, int cOff) {
        int as = transA ? lda : 1;
        if (!transB) {
            for (int p = 0; p < k; p++) {
                float ap = alpha * a[aOff + p * as];
                axpy(ap, b, bOff + p * ldb, c, cOff, n);
            }
        } else {
            for (int j = 0; j < n; j++) c[cOff + j] += alpha * dot(a, aOff, b, bOff + j * ldb, k); // a contiguous here
        }
    }

    /** Up to this many rows of A·B (neither transposed) skip packing: {@link #fewRowsTimesMatrix}. */
    static final int FEW_ROWS = 16;

    /** Rows of B per block of {@link #fewRowsTimesMatrix}, at most: C is loaded and stored once per block. */
    static final int FEW_ROWS_KB = 64;

    /** Floats of Bᵀ per block of a few rows times Bᵀ, at most (32 KB): the block serves every row from L1. */
    static final int FEW_ROWS_TB_FLOATS = 8192;

    /** Floats of B per block of {@link #fewRowsTimesMatrix}, at most (64 rows of 1024, 256 KB): it stays in L2. */
    static final int FEW_ROWS_BLOCK_FLOATS = 65536;

    /**
     * c (m×n) += alpha·a (m×k)·B (k×n) for a few rows, without packing: blocks of 4 rows × 4
     * vectors of C (16 accumulators of the 32 AVX-512 registers; 4 × 2 below 512-bit vectors, where
     * there are 16) stay in registers while p runs over k, so each vector of B is loaded once per 4
     * rows, each broadcast of a serves 4 (or 2) vectors, and C is loaded once per block; 2 leftover
     * rows go 2 × 4 vectors, a last row 1 × 4 (four chains, not one). Row i sums
     * over p in the same order, with the same operations (c = b·(alpha·a) + c, one rounding, on the
     * vector columns; c += (alpha·a)·b on the tail columns), as {@link #rowTimesMatrix} does for one
     * row, so a batch of rows gives each row's one-row result bit for bit (batched decoding equals
     * decoding one sequence at a time); alpha ≠ 1 scales a copy of A first (the same products
     * alpha·a[p], rounded once). B is taken up to {@link #FEW_ROWS_KB} rows and
     * {@link #FEW_ROWS_BLOCK_FLOATS} floats at a time: each block streams once from memory along its
     * rows, with every row of C against it while it is hot, instead of column strips strided by ldb
     * down all of B (a page per load once ldb passes 1024 floats).
     */
    private void fewRowsTimesMatrix(int m, int n, int k, float alpha, float[] a, int aOff, int lda, float[] b,
                                    int bOff, int ldb, float[] c, int cOff, int ldc) {
        if (alpha != 1f) {                               // the products alpha·a[p], once, as one row would round them
            Scratch sc = scratch.get();                  // (a thread's buffer: a training step allocates nothing)
            if (sc.scaledRows.length < m * k) sc.scaledRows = new float[m * k];
            float[] scaled = sc.scaledRows;
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) scaled[i * k + p] = alpha * a[aOff + i * lda + p];
            a = scaled;
            aOff = 0;
            lda = k;
        }
        int bound = S.loopBound(n), wide = S.vectorBitSize() >= 512 ? 4 * LANES : 2 * LANES;
        int block = Math.max(1, Math.min(FEW_ROWS_KB, FEW_ROWS_BLOCK_FLOATS / Math.max(1, ldb)));
        for (int p0 = 0; p0 < k; p0 += block) {          // B's rows [p0, p0 + kb): streamed once, then hot
            int kb = Math.min(block, k - p0), ap = aOff + p0, bp = bOff + p0 * ldb;
            int m4 = m / 4 * 4, jq = 0;                  // groups of 4 rows: columns outside, so that B's strip
            if (wide == 4 * LANES)                       // (kb x 4 vectors) serves every group from L1
                for (; jq + 4 * LANES <= bound; jq += 4 * LANES)
                    for (int i = 0; i < m4; i += 4)
                        fourRowsFourVectors(kb, a, ap + i * lda, lda, b, bp + jq, ldb, c, cOff + i * ldc + jq, ldc);
            for (; jq + 2 * LANES <= bound; jq += 2 * LANES)
                for (int i = 0; i < m4; i += 4)
                    fourRowsTwoVectors(kb, a, ap + i * lda, lda, b, bp + jq, ldb, c, cOff + i * ldc + jq, ldc);
            for (; jq < bound; jq += LANES)
                for (int r = 0; r < m4; r++)
                    oneRowOneVector(kb, a, ap + r * lda, b, bp + jq, ldb, c, cOff + r * ldc + jq);
            for (int r = 0; r < m4; r++) tailColumns(kb, 1f, a, ap + r * lda, b, bp, ldb, c, cOff + r * ldc, bound, n);
            int i = m4;
            for (; i + 2 <= m; i += 2) {                 // two rows: each B vector serves both
                int a0 = ap + i * lda, c0 = cOff + i * ldc;
                int j = 0;
                for (; j + 4 * LANES <= bound; j += 4 * LANES)
                    twoRowsFourVectors(kb, a, a0, lda, b, bp + j, ldb, c, c0 + j, ldc);
                for (; j < bound; j += LANES)
                    for (int r = 0; r < 2; r++) oneRowOneVector(kb, a, a0 + r * lda, b, bp + j, ldb, c,
                            c0 + r * ldc + j);
                for (int r = 0; r < 2; r++)
                    tailColumns(kb, 1f, a, a0 + r * lda, b, bp, ldb, c, c0 + r * ldc, bound, n);
            }
            for (; i < m; i++) {
                int a0 = ap + i * lda, c0 = cOff + i * ldc;
                int j = 0;
                for (; j + 4 * LANES <= bound; j += 4 * LANES) oneRowFourVectors(kb, a, a0, b, bp + j, ldb, c, c0 + j);
                for (; j < bound; j += LANES) oneRowOneVector(kb, a, a0, b, bp + j, ldb, c, c0 + j);
                tailColumns(kb, 1f, a, a0, b, bp, ldb, c, c0, bound, n);
            }
        }
    }

    /** c[4 rows, 4 vectors] += over p of B[p, 4 vectors]·a[row, p], in p order. */
    private static void fourRowsFourVectors(int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                            float[] c, int cOff, int ldc) {
        int c1 = cOff + ldc, c2 = c1 + ldc, c3 = c2 + ldc, l2 = 2 * LANES, l3 = 3 * LANES;
        FloatVector x00 = FloatVector.fromArray(S, c, cOff), x01 = FloatVector.fromArray(S, c, cOff + LANES);
        FloatVector x02 = FloatVector.fromArray(S, c, cOff + l2), x03 = FloatVector.fromArray(S, c, cOff + l3);
        FloatVector x10 = FloatVector.fromArray(S, c, c1), x11 = FloatVector.fromArray(S, c, c1 + LANES);
        FloatVector x12 = FloatVector.fromArray(S, c, c1 + l2), x13 = FloatVector.fromArray(S, c, c1 + l3);
        FloatVector x20 = FloatVector.fromArray(S, c, c2), x21 = FloatVector.fromArray(S, c, c2 + LANES);
        FloatVector x22 = FloatVector.fromArray(S, c, c2 + l2), x23 = FloatVector.fromArray(S, c, c2 + l3);
        FloatVector x30 = FloatVector.fromArray(S, c, c3), x31 = FloatVector.fromArray(S, c, c3 + LANES);
        FloatVector x32 = FloatVector.fromArray(S, c, c3 + l2), x33 = FloatVector.fromArray(S, c, c3 + l3);
        int a1 = aOff + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int p = 0; p < k; p++) {
            int bp = bOff + p * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bp), b1 = FloatVector.fromArray(S, b, bp + LANES);
            FloatVector b2 = FloatVector.fromArray(S, b, bp + l2), b3 = FloatVector.fromArray(S, b, bp + l3);
            FloatVector s0 = FloatVector.broadcast(S, a[aOff + p]);
            x00 = b0.fma(s0, x00); x01 = b1.fma(s0, x01); x02 = b2.fma(s0, x02); x03 = b3.fma(s0, x03);
            FloatVector s1 = FloatVector.broadcast(S, a[a1 + p]);
            x10 = b0.fma(s1, x10); x11 = b1.fma(s1, x11); x12 = b2.fma(s1, x12); x13 = b3.fma(s1, x13);
            FloatVector s2 = FloatVector.broadcast(S, a[a2 + p]);
            x20 = b0.fma(s2, x20); x21 = b1.fma(s2, x21); x22 = b2.fma(s2, x22); x23 = b3.fma(s2, x23);
            FloatVector s3 = FloatVector.broadcast(S, a[a3 + p]);
            x30 = b0.fma(s3, x30); x31 = b1.fma(s3, x31); x32 = b2.fma(s3, x32); x33 = b3.fma(s3, x33);
        }
        x00.intoArray(c, cOff); x01.intoArray(c, cOff + LANES);
        x02.intoArray(c, cOff + l2); x03.intoArray(c, cOff + l3);
        x10.intoArray(c, c1); x11.intoArray(c, c1 + LANES); x12.intoArray(c, c1 + l2); x13.intoArray(c, c1 + l3);
        x20.intoArray(c, c2); x21.intoArray(c, c2 + LANES); x22.intoArray(c, c2 + l2); x23.intoArray(c, c2 + l3);
        x30.intoArray(c, c3); x31.intoArray(c, c3 + LANES); x32.intoArray(c, c3 + l2); x33.intoArray(c, c3 + l3);
    }

    /** c[4 rows, 2 vectors] += over p of B[p, 2 vectors]·a[row, p], in p order. */
    private static void fourRowsTwoVectors(int k, float[] a, int aOff, int lda, float[] b, int bOff,
                                           int ldb, float[] c, int cOff, int ldc) {
        int c1 = cOff + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        FloatVector x00 = FloatVector.fromArray(S, c, cOff), x01 = FloatVector.fromArray(S, c, cOff + LANES);
        FloatVector x10 = FloatVector.fromArray(S, c, c1), x11 = FloatVector.fromArray(S, c, c1 + LANES);
        FloatVector x20 = FloatVector.fromArray(S, c, c2), x21 = FloatVector.fromArray(S, c, c2 + LANES);
        FloatVector x30 = FloatVector.fromArray(S, c, c3), x31 = FloatVector.fromArray(S, c, c3 + LANES);
        int a1 = aOff + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int p = 0; p < k; p++) {
            int bp = bOff + p * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bp), b1 = FloatVector.fromArray(S, b, bp + LANES);
            FloatVector s0 = FloatVector.broadcast(S, a[aOff + p]);
            x00 = b0.fma(s0, x00); x01 = b1.fma(s0, x01);
            FloatVector s1 = FloatVector.broadcast(S, a[a1 + p]);
            x10 = b0.fma(s1, x10); x11 = b1.fma(s1, x11);
            FloatVector s2 = FloatVector.broadcast(S, a[a2 + p]);
            x20 = b0.fma(s2, x20); x21 = b1.fma(s2, x21);
            FloatVector s3 = FloatVector.broadcast(S, a[a3 + p]);
            x30 = b0.fma(s3, x30); x31 = b1.fma(s3, x31);
        }
        x00.intoArray(c, cOff); x01.intoArray(c, cOff + LANES);
        x10.intoArray(c, c1); x11.intoArray(c, c1 + LANES);
        x20.intoArray(c, c2); x21.intoArray(c, c2 + LANES);
        x30.intoArray(c, c3); x31.intoArray(c, c3 + LANES);
    }

    /** c[2 rows, 4 vectors] += over p of B[p, 4 vectors]·a[row, p], in p order. */
    private static void twoRowsFourVectors(int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                           float[] c, int cOff, int ldc) {
        int c1 = cOff + ldc, a1 = aOff + lda, l2 = 2 * LANES, l3 = 3 * LANES;
        FloatVector x00 = FloatVector.fromArray(S, c, cOff), x01 = FloatVector.fromArray(S, c, cOff + LANES);
        FloatVector x02 = FloatVector.fromArray(S, c, cOff + l2), x03 = FloatVector.fromArray(S, c, cOff + l3);
        FloatVector x10 = FloatVector.fromArray(S, c, c1), x11 = FloatVector.fromArray(S, c, c1 + LANES);
        FloatVector x12 = FloatVector.fromArray(S, c, c1 + l2), x13 = FloatVector.fromArray(S, c, c1 + l3);
        for (int p = 0; p < k; p++) {
            int bp = bOff + p * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bp), b1 = FloatVector.fromArray(S, b, bp + LANES);
            FloatVector b2 = FloatVector.fromArray(S, b, bp + l2), b3 = FloatVector.fromArray(S, b, bp + l3);
            FloatVector s0 = FloatVector.broadcast(S, a[aOff + p]);
            x00 = b0.fma(s0, x00); x01 = b1.fma(s0, x01); x02 = b2.fma(s0, x02); x03 = b3.fma(s0, x03);
            FloatVector s1 = FloatVector.broadcast(S, a[a1 + p]);
            x10 = b0.fma(s1, x10); x11 = b1.fma(s1, x11); x12 = b2.fma(s1, x12); x13 = b3.fma(s1, x13);
        }
        x00.intoArray(c, cOff); x01.intoArray(c, cOff + LANES);
        x02.intoArray(c, cOff + l2); x03.intoArray(c, cOff + l3);
        x10.intoArray(c, c1); x11.intoArray(c, c1 + LANES); x12.intoArray(c, c1 + l2); x13.intoArray(c, c1 + l3);
    }

    /** c[one row, 4 vectors] += over p of B[p, 4 vectors]·a[p], in p order: four independent chains. */
    private static void oneRowFourVectors(int k, float[] a, int aOff, float[] b, int bOff, int ldb, float[] c,
                                          int cOff) {
        int l2 = 2 * LANES, l3 = 3 * LANES;
        FloatVector x0 = FloatVector.fromArray(S, c, cOff), x1 = FloatVector.fromArray(S, c, cOff + LANES);
        FloatVector x2 = FloatVector.fromArray(S, c, cOff + l2), x3 = FloatVector.fromArray(S, c, cOff + l3);
        for (int p = 0; p < k; p++) {
            int bp = bOff + p * ldb;
            FloatVector s0 = FloatVector.broadcast(S, a[aOff + p]);
            x0 = FloatVector.fromArray(S, b, bp).fma(s0, x0);
            x1 = FloatVector.fromArray(S, b, bp + LANES).fma(s0, x1);
            x2 = FloatVector.fromArray(S, b, bp + l2).fma(s0, x2);
            x3 = FloatVector.fromArray(S, b, bp + l3).fma(s0, x3);
        }
        x0.intoArray(c, cOff); x1.intoArray(c, cOff + LANES); x2.intoArray(c, cOff + l2); x3.intoArray(c, cOff + l3);
    }

    /** c[one vector] += over p of B[p, vector]·a[p], in p order. */
    private static void oneRowOneVector(int k, float[] a, int aOff, float[] b, int bOff, int ldb, float[] c,
                                        int cOff) {
        FloatVector x = FloatVector.fromArray(S, c, cOff);
        for (int p = 0; p < k; p++)
            x = FloatVector.fromArray(S, b, bOff + p * ldb).fma(FloatVector.broadcast(S, a[aOff + p]), x);
        x.intoArray(c, cOff);
    }

    /** Columns [from, n) of one row, as {@link #axpy}'s scalar tail: c += (alpha·a[p])·b[p, j], p in order. */
    private static void tailColumns(int k, float alpha, float[] a, int aOff, float[] b, int bOff, int ldb, float[] c,
                                    int cOff, int from, int n) {
        if (from == n) return;
        for (int p = 0; p < k; p++) {
            float ap = alpha * a[aOff + p];
            int bp = bOff + p * ldb;
            for (int j = from; j < n; j++) c[cOff + j] += ap * b[bp + j];
        }
    }

    /**
     * Leading dimensions up to this read A in place (no packing; 6-row panels only). Beyond it the six rows of a panel
     * (or, transposed, each kk step) lie on different pages, and a packed panel is faster.
     */
    static final int DIRECT_LDA = 1024;

    /**
     * C = alpha·op(A)·op(B) (overwrite: C's old values are not read, nor need to be zeroed first) or
     * C += alpha·op(A)·op(B), on the calling thread.
     */
    private void gemmSerial(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean overwrite) {
        gemmSerial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, FULL, 0, overwrite);
    }

    /**
     * What an overwriting product's first depth block reads as C: zeros, a tile's worth (so that
     * C = fma(alpha, sum, 0) has the bits of a product into a zeroed C, without the pass that zeroes
     * it and the reads of C; for a 256×256×64 block that was 512 KB of C's 768 KB of traffic).
     */
    private static final float[] ZERO_TILE = new float[MR * NR];

    /**
     * {@link #gemmSerial} with a block structure, for rows starting at row0 of the whole product: with
     * LOWER_C the micro-tiles wholly above the diagonal are skipped; with LOWER_A (UPPER_A) each MR-row
     * panel runs only the depth on or below (above) its rows' diagonal, where op(A) is not zero.
     */
    private void gemmSerial(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, int structure, int row0, boolean overwrite) {
        Scratch s = scratch.get();
        boolean rowPanels = MR == 14 && !transA;           // packed by rows: op(A) = A copied row by row
        // A read in place: 6-row panels up to DIRECT_LDA; 14-row ones (micro14r) only at a row stride of KC
        boolean direct = MR == 6 ? lda <= DIRECT_LDA : rowPanels && lda == KC;
        int rs = transA ? 1 : lda, cs = transA ? lda : 1;
        int prs = rowPanels ? KC : 1, pcs = rowPanels ? 1 : MR; // a packed panel's strides
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean ow = overwrite && pc == 0; // the first depth block writes C, later ones add to it
                float[] ci = ow ? ZERO_TILE : c;
                int ldci = ow ? NR : ldc;
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, s.packB);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    if (!direct) packA(transA, a, aOff, lda, ic, mc, pc, kc, s.packA);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        int bBase = jr * kc;
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir), cAt = cOff + (ic + ir) * ldc + jc + jr;
                            int row = row0 + ic + ir, k0 = 0, k1 = kc; // this panel's depth within the block
                            // the columns of this tile the panel needs: with LOWER_C those on or below the diagonal
                            int need = structure == LOWER_C ? Math.min(nr, row + mr - (jc + jr)) : nr;
                            if (need <= 0) continue;
                            if (structure == LOWER_A) k1 = Math.min(kc, row + mr - pc);
                            else if (structure == UPPER_A) k0 = Math.max(0, row - pc);
                            if (k1 <= k0) continue;
                            int ciOff = ow ? 0 : cAt;
                            if (!direct) {
                                int at = rowPanels ? ir * KC + k0 : ir * kc + k0 * MR;
                                micro(k1 - k0, s.packA, at, prs, pcs, s.packB, bBase + k0 * NR, alpha, c, cAt, ldc,
                                        ci, ciOff, ldci, mr, nr, s.tile);
                            } else if (mr == MR) {
                                micro(k1 - k0, a, aOff + (ic + ir) * rs + (pc + k0) * cs, rs, cs, s.packB,
                                        bBase + k0 * NR, alpha, c, cAt, ldc, ci, ciOff, ldci, mr, nr, s.tile);
                            } else { // a partial panel at the bottom edge: pack it alone, zero padded
                                packA(transA, a, aOff, lda, ic + ir, mr, pc, kc, s.packA);
                                micro(k1 - k0, s.packA, rowPanels ? k0 : k0 * MR, prs, pcs, s.packB, bBase + k0 * NR,
                                        alpha, c, cAt, ldc, ci, ciOff, ldci, mr, nr, s.tile);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Packs op(A)[ic:ic+mc, pc:pc+kc] into MR-row panels: in steps, panel p's element (r, kk) at
     * p·MR·kc + kk·MR + r; for 14-row panels of op(A) = A by rows instead, at (p·MR + r)·KC + kk.
     */
    private static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc,
                              float[] pa) {
        if (MR == 14 && !transA) {                          // by rows at stride KC (micro14r): row copies
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                for (int r = 0; r < mr; r++)
                    System.arraycopy(a, aOff + (ic + ir + r) * lda + pc, pa, (ir + r) * KC, kc);
                for (int r = mr; r < MR; r++) java.util.Arrays.fill(pa, (ir + r) * KC, (ir + r) * KC + kc, 0f);
            }
            return;
        }
        if (MR == 14 && LANES == 16) {                      // op(A) = Aᵀ in steps, by vectors
            int done = packA14(a, aOff, lda, ic, mc, pc, kc, pa);
            if (done == mc) return;
            ic += done;
            mc -= done;
            if (mc < MR) packA14Edge(a, aOff, lda, ic, mc, pc, kc, pa, done * kc); // the last, partial panel
            else packAScalar(transA, a, aOff, lda, ic, mc, pc, kc, pa, done * kc); // after a stop at the array's end
            return;
        }
        packAScalar(transA, a, aOff, lda, ic, mc, pc, kc, pa, 0);
    }

    /**
     * The leading whole 14-row panels of op(A) = Aᵀ in packA's block as vector copies; returns the rows
     * packed (a multiple of 14). A step kk of a panel is 14 floats, contiguous in A: loaded and stored
     * as one 16-lane vector whose last two lanes the next step overwrites (steps in increasing order;
     * the buffer has LANES spare). A panel whose 16 loaded floats would run past the array stops it.
     */
    private static int packA14(float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float[] pa) {
        int ir = 0;
        for (; ir + MR <= mc; ir += MR) {
            int base = ir * kc, src = aOff + pc * lda + ic + ir;
            if (src + (kc - 1) * lda + LANES > a.length) break;
            for (int kk = 0; kk < kc; kk++) FloatVector.fromArray(S, a, src + kk * lda).intoArray(pa, base + kk * MR);
        }
        return ir;
    }

    /**
     * A partial panel of op(A) = Aᵀ (mr &lt; 14 rows) in steps, as masked vector copies into pa from paOff:
     * each step's mr floats loaded under a mask (the lanes after them read as zeros, and nothing past
     * them is read), stored as a whole vector whose last two lanes the next step overwrites, like
     * {@link #packA14}. It replaced the element loop for the rows after the whole panels (4 after 256).
     */
    private static void packA14Edge(float[] a, int aOff, int lda, int ic, int mr, int pc, int kc, float[] pa,
                                    int paOff) {
        var rows = S.indexInRange(0, mr);
        for (int kk = 0, src = aOff + pc * lda + ic; kk < kc; kk++, src += lda)
            FloatVector.fromArray(S, a, src, rows).intoArray(pa, paOff + kk * MR);
    }

    /** packA element by element, into pa from paOff. */
    private static void packAScalar(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc,
                                    float[] pa, int paOff) {
        if (transA) {
            // op(A) = Aᵀ: row kk of A holds a contiguous stretch of op(A)'s column; read it once
            // and scatter it over the panels (reading panel by panel strides across rows: 3× slower).
            for (int kk = 0; kk < kc; kk++) {
                int src = aOff + (pc + kk) * lda + ic;
                for (int ir = 0; ir < mc; ir += MR) {
                    int mr = Math.min(MR, mc - ir), dst = paOff + ir * kc + kk * MR;
                    for (int r = 0; r < mr; r++) pa[dst + r] = a[src + ir + r];
                    for (int r = mr; r < MR; r++) pa[dst + r] = 0f;
                }
            }
            return;
        }
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int base = paOff + ir * kc;
            for (int r = 0; r < mr; r++) {
                int src = aOff + (ic + ir + r) * lda + pc;
                for (int kk = 0; kk < kc; kk++) pa[base + kk * MR + r] = a[src + kk];
            }
            for (int r = mr; r < MR; r++)
                for (int kk = 0; kk < kc; kk++) pa[base + kk * MR + r] = 0f;
        }
    }

    /** Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-column panels: panel q, element [kk*NR + j]. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                              float[] pb) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = jr * kc;
            if (!transB && nr == NR) {
                // whole panels by vectors, not an arraycopy call per 32-float row (a 64×256 B: 2.4 → 2.0 µs)
                for (int kk = 0, src = bOff + pc * ldb + jc + jr, dst = base; kk < kc; kk++, src += ldb, dst += NR)
                    for (int j = 0; j < NR; j += LANES) FloatVector.fromArray(S, b, src + j).intoArray(pb, dst + j);
            } else if (!transB) {
                for (int kk = 0; kk < kc; kk++) {
                    int dst = base + kk * NR;
                    System.arraycopy(b, bOff + (pc + kk) * ldb + jc + jr, pb, dst, nr);
                    if (nr < NR) java.util.Arrays.fill(pb, dst + nr, dst + NR, 0f);
                }
            } else {
                // op(B) = Bᵀ: LANES×LANES blocks transposed in registers; the rest (edges) element by element,
                // each packed row written contiguously while the nr source rows stay in L1 across kk
                int src = bOff + (jc + jr) * ldb + pc, kv = nr == NR ? kc / LANES * LANES : 0;
                for (int j0 = 0; j0 < nr && kv > 0; j0 += LANES)
                    for (int k0 = 0; k0 < kv; k0 += LANES) transposeBlock(b, src + j0 * ldb + k0, ldb, pb,
                            base + k0 * NR + j0, NR);
                for (int kk = kv; kk < kc; kk++) {
                    int dst = base + kk * NR;
                    for (int j = 0; j < nr; j++) pb[dst + j] = b[src + j * ldb + kk];
                    if (nr < NR) java.util.Arrays.fill(pb, dst + nr, dst + NR, 0f);
                }
            }
        }
    }

    /** Lane-index vectors of the transpose's stages: for each b = LANES/2 … 1, the low and the high output. */
    private static final FloatVector[] T_LO = new FloatVector[LANES], T_HI = new FloatVector[LANES];

    static {
        for (int bit = 1; bit < LANES; bit <<= 1) {
            float[] lo = new float[LANES], hi = new float[LANES];
            for (int l = 0; l < LANES; l++) {
                lo[l] = (l & bit) == 0 ? l : LANES + l - bit;
                hi[l] = (l & bit) == 0 ? l + bit : LANES + l;
            }
            T_LO[bit] = FloatVector.fromArray(S, lo, 0);
            T_HI[bit] = FloatVector.fromArray(S, hi, 0);
        }
    }

    /**
     * dst[c·ldd + r] = src[r·lds + c] for a LANES×LANES block: the LANES source rows loaded as vectors,
     * then for each bit b of the lane index one two-source select per pair of rows (i, i + b) that swaps
     * bit b of the row with bit b of the lane (after all log2(LANES) stages, row r holds column r).
     * Unrolled per width (vectors in an array are boxed). Packing a transposed B element by element
     * cost about a third of a 64×64×256 product (68 against 106 GFLOP/s on one AVX-512 core).
     */
    private static void transposeBlock(float[] src, int so, int lds, float[] dst, int dOff, int ldd) {
        if (LANES == 16) transpose16(src, so, lds, dst, dOff, ldd);
        else if (LANES == 8) transpose8(src, so, lds, dst, dOff, ldd);
        else
            for (int r = 0; r < LANES; r++)
                for (int c = 0; c < LANES; c++) dst[dOff + c * ldd + r] = src[so + r * lds + c];
    }

    // CHECKSTYLE.OFF: LineLength
    private static void transpose16(float[] src, int so, int lds, float[] dst, int dOff, int ldd) {
        FloatVector v0 = FloatVector.fromArray(S, src, so + 0 * lds);
        FloatVector v1 = FloatVector.fromArray(S, src, so + 1 * lds);
        FloatVector v2 = FloatVector.fromArray(S, src, so + 2 * lds);
        FloatVector v3 = FloatVector.fromArray(S, src, so + 3 * lds);
        FloatVector v4 = FloatVector.fromArray(S, src, so + 4 * lds);
        FloatVector v5 = FloatVector.fromArray(S, src, so + 5 * lds);
        FloatVector v6 = FloatVector.fromArray(S, src, so + 6 * lds);
        FloatVector v7 = FloatVector.fromArray(S, src, so + 7 * lds);
        FloatVector v8 = FloatVector.fromArray(S, src, so + 8 * lds);
        FloatVector v9 = FloatVector.fromArray(S, src, so + 9 * lds);
        FloatVector v10 = FloatVector.fromArray(S, src, so + 10 * lds);
        FloatVector v11 = FloatVector.fromArray(S, src, so + 11 * lds);
        FloatVector v12 = FloatVector.fromArray(S, src, so + 12 * lds);
        FloatVector v13 = FloatVector.fromArray(S, src, so + 13 * lds);
        FloatVector v14 = FloatVector.fromArray(S, src, so + 14 * lds);
        FloatVector v15 = FloatVector.fromArray(S, src, so + 15 * lds);
        FloatVector s0_0 = T_LO[8].selectFrom(v0, v8), s0_8 = T_HI[8].selectFrom(v0, v8);
        FloatVector s0_1 = T_LO[8].selectFrom(v1, v9), s0_9 = T_HI[8].selectFrom(v1, v9);
        FloatVector s0_2 = T_LO[8].selectFrom(v2, v10), s0_10 = T_HI[8].selectFrom(v2, v10);
        FloatVector s0_3 = T_LO[8].selectFrom(v3, v11), s0_11 = T_HI[8].selectFrom(v3, v11);
        FloatVector s0_4 = T_LO[8].selectFrom(v4, v12), s0_12 = T_HI[8].selectFrom(v4, v12);
        FloatVector s0_5 = T_LO[8].selectFrom(v5, v13), s0_13 = T_HI[8].selectFrom(v5, v13);
        FloatVector s0_6 = T_LO[8].selectFrom(v6, v14), s0_14 = T_HI[8].selectFrom(v6, v14);
        FloatVector s0_7 = T_LO[8].selectFrom(v7, v15), s0_15 = T_HI[8].selectFrom(v7, v15);
        FloatVector s1_0 = T_LO[4].selectFrom(s0_0, s0_4), s1_4 = T_HI[4].selectFrom(s0_0, s0_4);
        FloatVector s1_1 = T_LO[4].selectFrom(s0_1, s0_5), s1_5 = T_HI[4].selectFrom(s0_1, s0_5);
        FloatVector s1_2 = T_LO[4].selectFrom(s0_2, s0_6), s1_6 = T_HI[4].selectFrom(s0_2, s0_6);
        FloatVector s1_3 = T_LO[4].selectFrom(s0_3, s0_7), s1_7 = T_HI[4].selectFrom(s0_3, s0_7);
        FloatVector s1_8 = T_LO[4].selectFrom(s0_8, s0_12), s1_12 = T_HI[4].selectFrom(s0_8, s0_12);
        FloatVector s1_9 = T_LO[4].selectFrom(s0_9, s0_13), s1_13 = T_HI[4].selectFrom(s0_9, s0_13);
        FloatVector s1_10 = T_LO[4].selectFrom(s0_10, s0_14), s1_14 = T_HI[4].selectFrom(s0_10, s0_14);
        FloatVector s1_11 = T_LO[4].selectFrom(s0_11, s0_15), s1_15 = T_HI[4].selectFrom(s0_11, s0_15);
        FloatVector s2_0 = T_LO[2].selectFrom(s1_0, s1_2), s2_2 = T_HI[2].selectFrom(s1_0, s1_2);
        FloatVector s2_1 = T_LO[2].selectFrom(s1_1, s1_3), s2_3 = T_HI[2].selectFrom(s1_1, s1_3);
        FloatVector s2_4 = T_LO[2].selectFrom(s1_4, s1_6), s2_6 = T_HI[2].selectFrom(s1_4, s1_6);
        FloatVector s2_5 = T_LO[2].selectFrom(s1_5, s1_7), s2_7 = T_HI[2].selectFrom(s1_5, s1_7);
        FloatVector s2_8 = T_LO[2].selectFrom(s1_8, s1_10), s2_10 = T_HI[2].selectFrom(s1_8, s1_10);
        FloatVector s2_9 = T_LO[2].selectFrom(s1_9, s1_11), s2_11 = T_HI[2].selectFrom(s1_9, s1_11);
        FloatVector s2_12 = T_LO[2].selectFrom(s1_12, s1_14), s2_14 = T_HI[2].selectFrom(s1_12, s1_14);
        FloatVector s2_13 = T_LO[2].selectFrom(s1_13, s1_15), s2_15 = T_HI[2].selectFrom(s1_13, s1_15);
        FloatVector s3_0 = T_LO[1].selectFrom(s2_0, s2_1), s3_1 = T_HI[1].selectFrom(s2_0, s2_1);
        FloatVector s3_2 = T_LO[1].selectFrom(s2_2, s2_3), s3_3 = T_HI[1].selectFrom(s2_2, s2_3);
        FloatVector s3_4 = T_LO[1].selectFrom(s2_4, s2_5), s3_5 = T_HI[1].selectFrom(s2_4, s2_5);
        FloatVector s3_6 = T_LO[1].selectFrom(s2_6, s2_7), s3_7 = T_HI[1].selectFrom(s2_6, s2_7);
        FloatVector s3_8 = T_LO[1].selectFrom(s2_8, s2_9), s3_9 = T_HI[1].selectFrom(s2_8, s2_9);
        FloatVector s3_10 = T_LO[1].selectFrom(s2_10, s2_11), s3_11 = T_HI[1].selectFrom(s2_10, s2_11);
        FloatVector s3_12 = T_LO[1].selectFrom(s2_12, s2_13), s3_13 = T_HI[1].selectFrom(s2_12, s2_13);
        FloatVector s3_14 = T_LO[1].selectFrom(s2_14, s2_15), s3_15 = T_HI[1].selectFrom(s2_14, s2_15);
        s3_0.intoArray(dst, dOff + 0 * ldd);
        s3_1.intoArray(dst, dOff + 1 * ldd);
        s3_2.intoArray(dst, dOff + 2 * ldd);
        s3_3.intoArray(dst, dOff + 3 * ldd);
        s3_4.intoArray(dst, dOff + 4 * ldd);
        s3_5.intoArray(dst, dOff + 5 * ldd);
        s3_6.intoArray(dst, dOff + 6 * ldd);
        s3_7.intoArray(dst, dOff + 7 * ldd);
        s3_8.intoArray(dst, dOff + 8 * ldd);
        s3_9.intoArray(dst, dOff + 9 * ldd);
        s3_10.intoArray(dst, dOff + 10 * ldd);
        s3_11.intoArray(dst, dOff + 11 * ldd);
        s3_12.intoArray(dst, dOff + 12 * ldd);
        s3_13.intoArray(dst, dOff + 13 * ldd);
        s3_14.intoArray(dst, dOff + 14 * ldd);
        s3_15.intoArray(dst, dOff + 15 * ldd);
    }

    private static void transpose8(float[] src, int so, int lds, float[] dst, int dOff, int ldd) {
        FloatVector v0 = FloatVector.fromArray(S, src, so + 0 * lds);
        FloatVector v1 = FloatVector.fromArray(S, src, so + 1 * lds);
        FloatVector v2 = FloatVector.fromArray(S, src, so + 2 * lds);
        FloatVector v3 = FloatVector.fromArray(S, src, so + 3 * lds);
        FloatVector v4 = FloatVector.fromArray(S, src, so + 4 * lds);
        FloatVector v5 = FloatVector.fromArray(S, src, so + 5 * lds);
        FloatVector v6 = FloatVector.fromArray(S, src, so + 6 * lds);
        FloatVector v7 = FloatVector.fromArray(S, src, so + 7 * lds);
        FloatVector s0_0 = T_LO[4].selectFrom(v0, v4), s0_4 = T_HI[4].selectFrom(v0, v4);
        FloatVector s0_1 = T_LO[4].selectFrom(v1, v5), s0_5 = T_HI[4].selectFrom(v1, v5);
        FloatVector s0_2 = T_LO[4].selectFrom(v2, v6), s0_6 = T_HI[4].selectFrom(v2, v6);
        FloatVector s0_3 = T_LO[4].selectFrom(v3, v7), s0_7 = T_HI[4].selectFrom(v3, v7);
        FloatVector s1_0 = T_LO[2].selectFrom(s0_0, s0_2), s1_2 = T_HI[2].selectFrom(s0_0, s0_2);
        FloatVector s1_1 = T_LO[2].selectFrom(s0_1, s0_3), s1_3 = T_HI[2].selectFrom(s0_1, s0_3);
        FloatVector s1_4 = T_LO[2].selectFrom(s0_4, s0_6), s1_6 = T_HI[2].selectFrom(s0_4, s0_6);
        FloatVector s1_5 = T_LO[2].selectFrom(s0_5, s0_7), s1_7 = T_HI[2].selectFrom(s0_5, s0_7);
        FloatVector s2_0 = T_LO[1].selectFrom(s1_0, s1_1), s2_1 = T_HI[1].selectFrom(s1_0, s1_1);
        FloatVector s2_2 = T_LO[1].selectFrom(s1_2, s1_3), s2_3 = T_HI[1].selectFrom(s1_2, s1_3);
        FloatVector s2_4 = T_LO[1].selectFrom(s1_4, s1_5), s2_5 = T_HI[1].selectFrom(s1_4, s1_5);
        FloatVector s2_6 = T_LO[1].selectFrom(s1_6, s1_7), s2_7 = T_HI[1].selectFrom(s1_6, s1_7);
        s2_0.intoArray(dst, dOff + 0 * ldd);
        s2_1.intoArray(dst, dOff + 1 * ldd);
        s2_2.intoArray(dst, dOff + 2 * ldd);
        s2_3.intoArray(dst, dOff + 3 * ldd);
        s2_4.intoArray(dst, dOff + 4 * ldd);
        s2_5.intoArray(dst, dOff + 5 * ldd);
        s2_6.intoArray(dst, dOff + 6 * ldd);
        s2_7.intoArray(dst, dOff + 7 * ldd);
    }
    // CHECKSTYLE.ON: LineLength

    // The unrolled kernel keeps one line per row of accumulators, so that they read as a grid.
    // CHECKSTYLE.OFF: LineLength
    /**
     * The micro-kernel: C[0:mr, 0:nr] = alpha·A·B + C' for an MR-row panel of A, element (r, kk) at
     * aBase + r·rs + kk·cs, and a packed NR-wide panel of B, where C' is read from ci at ciOff with row
     * stride ldci (C itself, or {@link #ZERO_TILE} when the product overwrites C), with MR×NV vector accumulators (a panel of
     * at most 6 rows runs the 6-row kernel). A is either a packed panel (rs = 1, cs = MR, zero padded)
     * or, with 6-row panels, read in place from the matrix (six sequential row streams; skipping the
     * packing pass was measured faster on the FAVOR+ shapes, where packing A cost 13% of a forward
     * pass). 14-row panels are packed by rows (rs KC, cs 1) or in steps (rs 1, cs MR), or read in place
     * by rows when A's row stride is KC. Fully
     * unrolled, with the stores written inline: passing the accumulators to a helper made C2 box them
     * (6 vs 99 GFLOP/s on one core). Every entry of C sums its products in the order of kk whatever
     * the tile, so the tile's shape does not change a result's bits.
     */
    private static void micro(int kc, float[] a, int aBase, int rs, int cs, float[] pb, int bBase,
                              float alpha, float[] c, int cOff, int ldc, float[] ci, int ciOff, int ldci, int mr,
                              int nr, float[] tile) {
        if (MR == 14 && mr > 6) { // a packed panel: by rows (rs KC, cs 1) or in steps (rs 1, cs MR)
            if (mr == MR && nr == NR) {
                if (cs == 1) micro14r(kc, a, aBase, pb, bBase, alpha, c, cOff, ldc, ci, ciOff, ldci);
                else micro14s(kc, a, aBase, pb, bBase, alpha, c, cOff, ldc, ci, ciOff, ldci);
                return;
            }
            // an edge tile: the sums into the zeroed tile (alpha 1: exact), then c = fma(alpha, sum, c)
            java.util.Arrays.fill(tile, 0f);
            if (cs == 1) micro14r(kc, a, aBase, pb, bBase, 1f, tile, 0, NR, tile, 0, NR);
            else micro14s(kc, a, aBase, pb, bBase, 1f, tile, 0, NR, tile, 0, NR);
            if (nr == NR) {
                FloatVector al = FloatVector.broadcast(S, alpha);
                for (int r = 0; r < mr; r++)
                    for (int j = 0; j < NR; j += LANES)
                        FloatVector.fromArray(S, tile, r * NR + j).fma(al, FloatVector.fromArray(S, ci, ciOff + r * ldci + j)).intoArray(c, cOff + r * ldc + j);
            } else {
                for (int r = 0; r < mr; r++)
                    for (int j = 0; j < nr; j++) c[cOff + r * ldc + j] = Math.fma(alpha, tile[r * NR + j], ci[ciOff + r * ldci + j]);
            }
        } else micro2(kc, a, aBase, rs, cs, pb, bBase, alpha, c, cOff, ldc, ci, ciOff, ldci, mr, nr, tile);
    }

    /** {@link #micro} with 6×2 vector accumulators. */
    private static void micro2(int kc, float[] a, int aBase, int rs, int cs, float[] pb, int bBase, float alpha,
                               float[] c, int cOff, int ldc, float[] ci, int ciOff, int ldci, int mr, int nr,
                               float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int a0 = aBase, a1 = aBase + rs, a2 = aBase + 2 * rs, a3 = aBase + 3 * rs, a4 = aBase + 4 * rs, a5 = aBase + 5 * rs;
        for (int kk = 0, ao = 0, bo = bBase; kk < kc; kk++, ao += cs, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + LANES);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + ao]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + ao]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + ao]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + ao]);
            c30 = b0.fma(x3, c30); c31 = b1.fma(x3, c31);
            FloatVector x4 = FloatVector.broadcast(S, a[a4 + ao]);
            c40 = b0.fma(x4, c40); c41 = b1.fma(x4, c41);
            FloatVector x5 = FloatVector.broadcast(S, a[a5 + ao]);
            c50 = b0.fma(x5, c50); c51 = b1.fma(x5, c51);
        }
        if (mr == MR && nr == NR) {
            FloatVector al = FloatVector.broadcast(S, alpha);
            c00.fma(al, FloatVector.fromArray(S, ci, ciOff)).intoArray(c, cOff); c01.fma(al, FloatVector.fromArray(S, ci, ciOff + LANES)).intoArray(c, cOff + LANES);
            c10.fma(al, FloatVector.fromArray(S, ci, ciOff + ldci)).intoArray(c, cOff + ldc); c11.fma(al, FloatVector.fromArray(S, ci, ciOff + ldci + LANES)).intoArray(c, cOff + ldc + LANES);
            c20.fma(al, FloatVector.fromArray(S, ci, ciOff + 2 * ldci)).intoArray(c, cOff + 2 * ldc); c21.fma(al, FloatVector.fromArray(S, ci, ciOff + 2 * ldci + LANES)).intoArray(c, cOff + 2 * ldc + LANES);
            c30.fma(al, FloatVector.fromArray(S, ci, ciOff + 3 * ldci)).intoArray(c, cOff + 3 * ldc); c31.fma(al, FloatVector.fromArray(S, ci, ciOff + 3 * ldci + LANES)).intoArray(c, cOff + 3 * ldc + LANES);
            c40.fma(al, FloatVector.fromArray(S, ci, ciOff + 4 * ldci)).intoArray(c, cOff + 4 * ldc); c41.fma(al, FloatVector.fromArray(S, ci, ciOff + 4 * ldci + LANES)).intoArray(c, cOff + 4 * ldc + LANES);
            c50.fma(al, FloatVector.fromArray(S, ci, ciOff + 5 * ldci)).intoArray(c, cOff + 5 * ldc); c51.fma(al, FloatVector.fromArray(S, ci, ciOff + 5 * ldci + LANES)).intoArray(c, cOff + 5 * ldc + LANES);
        } else {
            c00.intoArray(tile, 0); c01.intoArray(tile, LANES);
            c10.intoArray(tile, NR); c11.intoArray(tile, NR + LANES);
            c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + LANES);
            c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + LANES);
            c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + LANES);
            c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + LANES);
            for (int r = 0; r < mr; r++)
                for (int j = 0; j < nr; j++) c[cOff + r * ldc + j] = Math.fma(alpha, tile[r * NR + j], ci[ciOff + r * ldci + j]);
        }
    }

    /**
     * {@link #micro}'s 14×2 vector accumulators (512-bit vectors: 28 of the 32 registers, 2 of B, a
     * broadcast) for a whole tile, over a panel packed in steps (element (r, kk) at aBase + kk·14 + r),
     * written back inline. Its parameters are what the loop needs and C: with A's strides as well
     * (rs, cs: 14 row offsets live across the loop) it ran at about 150 GFLOP/s on one core, packed it
     * runs 185-205 (6×4 ran 140-157).
     */
    private static void micro14s(int kc, float[] a, int aBase, float[] pb, int bBase, float alpha, float[] c, int cOff, int ldc,
                                 float[] ci, int ciOff, int ldci) {
        FloatVector c000 = FloatVector.zero(S), c001 = FloatVector.zero(S);
        FloatVector c010 = FloatVector.zero(S), c011 = FloatVector.zero(S);
        FloatVector c020 = FloatVector.zero(S), c021 = FloatVector.zero(S);
        FloatVector c030 = FloatVector.zero(S), c031 = FloatVector.zero(S);
        FloatVector c040 = FloatVector.zero(S), c041 = FloatVector.zero(S);
        FloatVector c050 = FloatVector.zero(S), c051 = FloatVector.zero(S);
        FloatVector c060 = FloatVector.zero(S), c061 = FloatVector.zero(S);
        FloatVector c070 = FloatVector.zero(S), c071 = FloatVector.zero(S);
        FloatVector c080 = FloatVector.zero(S), c081 = FloatVector.zero(S);
        FloatVector c090 = FloatVector.zero(S), c091 = FloatVector.zero(S);
        FloatVector c100 = FloatVector.zero(S), c101 = FloatVector.zero(S);
        FloatVector c110 = FloatVector.zero(S), c111 = FloatVector.zero(S);
        FloatVector c120 = FloatVector.zero(S), c121 = FloatVector.zero(S);
        FloatVector c130 = FloatVector.zero(S), c131 = FloatVector.zero(S);
        for (int kk = 0, ao = aBase, bo = bBase; kk < kc; kk++, ao += MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + LANES);
            FloatVector x00 = FloatVector.broadcast(S, a[ao + 0]); c000 = b0.fma(x00, c000); c001 = b1.fma(x00, c001);
            FloatVector x01 = FloatVector.broadcast(S, a[ao + 1]); c010 = b0.fma(x01, c010); c011 = b1.fma(x01, c011);
            FloatVector x02 = FloatVector.broadcast(S, a[ao + 2]); c020 = b0.fma(x02, c020); c021 = b1.fma(x02, c021);
            FloatVector x03 = FloatVector.broadcast(S, a[ao + 3]); c030 = b0.fma(x03, c030); c031 = b1.fma(x03, c031);
            FloatVector x04 = FloatVector.broadcast(S, a[ao + 4]); c040 = b0.fma(x04, c040); c041 = b1.fma(x04, c041);
            FloatVector x05 = FloatVector.broadcast(S, a[ao + 5]); c050 = b0.fma(x05, c050); c051 = b1.fma(x05, c051);
            FloatVector x06 = FloatVector.broadcast(S, a[ao + 6]); c060 = b0.fma(x06, c060); c061 = b1.fma(x06, c061);
            FloatVector x07 = FloatVector.broadcast(S, a[ao + 7]); c070 = b0.fma(x07, c070); c071 = b1.fma(x07, c071);
            FloatVector x08 = FloatVector.broadcast(S, a[ao + 8]); c080 = b0.fma(x08, c080); c081 = b1.fma(x08, c081);
            FloatVector x09 = FloatVector.broadcast(S, a[ao + 9]); c090 = b0.fma(x09, c090); c091 = b1.fma(x09, c091);
            FloatVector x10 = FloatVector.broadcast(S, a[ao + 10]); c100 = b0.fma(x10, c100); c101 = b1.fma(x10, c101);
            FloatVector x11 = FloatVector.broadcast(S, a[ao + 11]); c110 = b0.fma(x11, c110); c111 = b1.fma(x11, c111);
            FloatVector x12 = FloatVector.broadcast(S, a[ao + 12]); c120 = b0.fma(x12, c120); c121 = b1.fma(x12, c121);
            FloatVector x13 = FloatVector.broadcast(S, a[ao + 13]); c130 = b0.fma(x13, c130); c131 = b1.fma(x13, c131);
        }
        FloatVector al = FloatVector.broadcast(S, alpha);
        c000.fma(al, FloatVector.fromArray(S, ci, ciOff + 0 * ldci)).intoArray(c, cOff + 0 * ldc); c001.fma(al, FloatVector.fromArray(S, ci, ciOff + 0 * ldci + LANES)).intoArray(c, cOff + 0 * ldc + LANES);
        c010.fma(al, FloatVector.fromArray(S, ci, ciOff + 1 * ldci)).intoArray(c, cOff + 1 * ldc); c011.fma(al, FloatVector.fromArray(S, ci, ciOff + 1 * ldci + LANES)).intoArray(c, cOff + 1 * ldc + LANES);
        c020.fma(al, FloatVector.fromArray(S, ci, ciOff + 2 * ldci)).intoArray(c, cOff + 2 * ldc); c021.fma(al, FloatVector.fromArray(S, ci, ciOff + 2 * ldci + LANES)).intoArray(c, cOff + 2 * ldc + LANES);
        c030.fma(al, FloatVector.fromArray(S, ci, ciOff + 3 * ldci)).intoArray(c, cOff + 3 * ldc); c031.fma(al, FloatVector.fromArray(S, ci, ciOff + 3 * ldci + LANES)).intoArray(c, cOff + 3 * ldc + LANES);
        c040.fma(al, FloatVector.fromArray(S, ci, ciOff + 4 * ldci)).intoArray(c, cOff + 4 * ldc); c041.fma(al, FloatVector.fromArray(S, ci, ciOff + 4 * ldci + LANES)).intoArray(c, cOff + 4 * ldc + LANES);
        c050.fma(al, FloatVector.fromArray(S, ci, ciOff + 5 * ldci)).intoArray(c, cOff + 5 * ldc); c051.fma(al, FloatVector.fromArray(S, ci, ciOff + 5 * ldci + LANES)).intoArray(c, cOff + 5 * ldc + LANES);
        c060.fma(al, FloatVector.fromArray(S, ci, ciOff + 6 * ldci)).intoArray(c, cOff + 6 * ldc); c061.fma(al, FloatVector.fromArray(S, ci, ciOff + 6 * ldci + LANES)).intoArray(c, cOff + 6 * ldc + LANES);
        c070.fma(al, FloatVector.fromArray(S, ci, ciOff + 7 * ldci)).intoArray(c, cOff + 7 * ldc); c071.fma(al, FloatVector.fromArray(S, ci, ciOff + 7 * ldci + LANES)).intoArray(c, cOff + 7 * ldc + LANES);
        c080.fma(al, FloatVector.fromArray(S, ci, ciOff + 8 * ldci)).intoArray(c, cOff + 8 * ldc); c081.fma(al, FloatVector.fromArray(S, ci, ciOff + 8 * ldci + LANES)).intoArray(c, cOff + 8 * ldc + LANES);
        c090.fma(al, FloatVector.fromArray(S, ci, ciOff + 9 * ldci)).intoArray(c, cOff + 9 * ldc); c091.fma(al, FloatVector.fromArray(S, ci, ciOff + 9 * ldci + LANES)).intoArray(c, cOff + 9 * ldc + LANES);
        c100.fma(al, FloatVector.fromArray(S, ci, ciOff + 10 * ldci)).intoArray(c, cOff + 10 * ldc); c101.fma(al, FloatVector.fromArray(S, ci, ciOff + 10 * ldci + LANES)).intoArray(c, cOff + 10 * ldc + LANES);
        c110.fma(al, FloatVector.fromArray(S, ci, ciOff + 11 * ldci)).intoArray(c, cOff + 11 * ldc); c111.fma(al, FloatVector.fromArray(S, ci, ciOff + 11 * ldci + LANES)).intoArray(c, cOff + 11 * ldc + LANES);
        c120.fma(al, FloatVector.fromArray(S, ci, ciOff + 12 * ldci)).intoArray(c, cOff + 12 * ldc); c121.fma(al, FloatVector.fromArray(S, ci, ciOff + 12 * ldci + LANES)).intoArray(c, cOff + 12 * ldc + LANES);
        c130.fma(al, FloatVector.fromArray(S, ci, ciOff + 13 * ldci)).intoArray(c, cOff + 13 * ldc); c131.fma(al, FloatVector.fromArray(S, ci, ciOff + 13 * ldci + LANES)).intoArray(c, cOff + 13 * ldc + LANES);
    }

    /**
     * {@link #micro14s} over a panel packed by rows (element (r, kk) at aBase + r·KC + kk): a constant
     * row stride, so one index register, and packing op(A) = A is a row copy (in steps it was a 16×16
     * transpose per block, a fifth of a 4096×64×256 product).
     */
    private static void micro14r(int kc, float[] a, int aBase, float[] pb, int bBase, float alpha, float[] c, int cOff, int ldc,
                                 float[] ci, int ciOff, int ldci) {
        FloatVector c000 = FloatVector.zero(S), c001 = FloatVector.zero(S);
        FloatVector c010 = FloatVector.zero(S), c011 = FloatVector.zero(S);
        FloatVector c020 = FloatVector.zero(S), c021 = FloatVector.zero(S);
        FloatVector c030 = FloatVector.zero(S), c031 = FloatVector.zero(S);
        FloatVector c040 = FloatVector.zero(S), c041 = FloatVector.zero(S);
        FloatVector c050 = FloatVector.zero(S), c051 = FloatVector.zero(S);
        FloatVector c060 = FloatVector.zero(S), c061 = FloatVector.zero(S);
        FloatVector c070 = FloatVector.zero(S), c071 = FloatVector.zero(S);
        FloatVector c080 = FloatVector.zero(S), c081 = FloatVector.zero(S);
        FloatVector c090 = FloatVector.zero(S), c091 = FloatVector.zero(S);
        FloatVector c100 = FloatVector.zero(S), c101 = FloatVector.zero(S);
        FloatVector c110 = FloatVector.zero(S), c111 = FloatVector.zero(S);
        FloatVector c120 = FloatVector.zero(S), c121 = FloatVector.zero(S);
        FloatVector c130 = FloatVector.zero(S), c131 = FloatVector.zero(S);
        for (int kk = 0, ao = aBase, bo = bBase; kk < kc; kk++, ao++, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + LANES);
            FloatVector x00 = FloatVector.broadcast(S, a[ao]); c000 = b0.fma(x00, c000); c001 = b1.fma(x00, c001);
            FloatVector x01 = FloatVector.broadcast(S, a[ao + 1 * KC]); c010 = b0.fma(x01, c010); c011 = b1.fma(x01, c011);
            FloatVector x02 = FloatVector.broadcast(S, a[ao + 2 * KC]); c020 = b0.fma(x02, c020); c021 = b1.fma(x02, c021);
            FloatVector x03 = FloatVector.broadcast(S, a[ao + 3 * KC]); c030 = b0.fma(x03, c030); c031 = b1.fma(x03, c031);
            FloatVector x04 = FloatVector.broadcast(S, a[ao + 4 * KC]); c040 = b0.fma(x04, c040); c041 = b1.fma(x04, c041);
            FloatVector x05 = FloatVector.broadcast(S, a[ao + 5 * KC]); c050 = b0.fma(x05, c050); c051 = b1.fma(x05, c051);
            FloatVector x06 = FloatVector.broadcast(S, a[ao + 6 * KC]); c060 = b0.fma(x06, c060); c061 = b1.fma(x06, c061);
            FloatVector x07 = FloatVector.broadcast(S, a[ao + 7 * KC]); c070 = b0.fma(x07, c070); c071 = b1.fma(x07, c071);
            FloatVector x08 = FloatVector.broadcast(S, a[ao + 8 * KC]); c080 = b0.fma(x08, c080); c081 = b1.fma(x08, c081);
            FloatVector x09 = FloatVector.broadcast(S, a[ao + 9 * KC]); c090 = b0.fma(x09, c090); c091 = b1.fma(x09, c091);
            FloatVector x10 = FloatVector.broadcast(S, a[ao + 10 * KC]); c100 = b0.fma(x10, c100); c101 = b1.fma(x10, c101);
            FloatVector x11 = FloatVector.broadcast(S, a[ao + 11 * KC]); c110 = b0.fma(x11, c110); c111 = b1.fma(x11, c111);
            FloatVector x12 = FloatVector.broadcast(S, a[ao + 12 * KC]); c120 = b0.fma(x12, c120); c121 = b1.fma(x12, c121);
            FloatVector x13 = FloatVector.broadcast(S, a[ao + 13 * KC]); c130 = b0.fma(x13, c130); c131 = b1.fma(x13, c131);
        }
        FloatVector al = FloatVector.broadcast(S, alpha);
        c000.fma(al, FloatVector.fromArray(S, ci, ciOff + 0 * ldci)).intoArray(c, cOff + 0 * ldc); c001.fma(al, FloatVector.fromArray(S, ci, ciOff + 0 * ldci + LANES)).intoArray(c, cOff + 0 * ldc + LANES);
        c010.fma(al, FloatVector.fromArray(S, ci, ciOff + 1 * ldci)).intoArray(c, cOff + 1 * ldc); c011.fma(al, FloatVector.fromArray(S, ci, ciOff + 1 * ldci + LANES)).intoArray(c, cOff + 1 * ldc + LANES);
        c020.fma(al, FloatVector.fromArray(S, ci, ciOff + 2 * ldci)).intoArray(c, cOff + 2 * ldc); c021.fma(al, FloatVector.fromArray(S, ci, ciOff + 2 * ldci + LANES)).intoArray(c, cOff + 2 * ldc + LANES);
        c030.fma(al, FloatVector.fromArray(S, ci, ciOff + 3 * ldci)).intoArray(c, cOff + 3 * ldc); c031.fma(al, FloatVector.fromArray(S, ci, ciOff + 3 * ldci + LANES)).intoArray(c, cOff + 3 * ldc + LANES);
        c040.fma(al, FloatVector.fromArray(S, ci, ciOff + 4 * ldci)).intoArray(c, cOff + 4 * ldc); c041.fma(al, FloatVector.fromArray(S, ci, ciOff + 4 * ldci + LANES)).intoArray(c, cOff + 4 * ldc + LANES);
        c050.fma(al, FloatVector.fromArray(S, ci, ciOff + 5 * ldci)).intoArray(c, cOff + 5 * ldc); c051.fma(al, FloatVector.fromArray(S, ci, ciOff + 5 * ldci + LANES)).intoArray(c, cOff + 5 * ldc + LANES);
        c060.fma(al, FloatVector.fromArray(S, ci, ciOff + 6 * ldci)).intoArray(c, cOff + 6 * ldc); c061.fma(al, FloatVector.fromArray(S, ci, ciOff + 6 * ldci + LANES)).intoArray(c, cOff + 6 * ldc + LANES);
        c070.fma(al, FloatVector.fromArray(S, ci, ciOff + 7 * ldci)).intoArray(c, cOff + 7 * ldc); c071.fma(al, FloatVector.fromArray(S, ci, ciOff + 7 * ldci + LANES)).intoArray(c, cOff + 7 * ldc + LANES);
        c080.fma(al, FloatVector.fromArray(S, ci, ciOff + 8 * ldci)).intoArray(c, cOff + 8 * ldc); c081.fma(al, FloatVector.fromArray(S, ci, ciOff + 8 * ldci + LANES)).intoArray(c, cOff + 8 * ldc + LANES);
        c090.fma(al, FloatVector.fromArray(S, ci, ciOff + 9 * ldci)).intoArray(c, cOff + 9 * ldc); c091.fma(al, FloatVector.fromArray(S, ci, ciOff + 9 * ldci + LANES)).intoArray(c, cOff + 9 * ldc + LANES);
        c100.fma(al, FloatVector.fromArray(S, ci, ciOff + 10 * ldci)).intoArray(c, cOff + 10 * ldc); c101.fma(al, FloatVector.fromArray(S, ci, ciOff + 10 * ldci + LANES)).intoArray(c, cOff + 10 * ldc + LANES);
        c110.fma(al, FloatVector.fromArray(S, ci, ciOff + 11 * ldci)).intoArray(c, cOff + 11 * ldc); c111.fma(al, FloatVector.fromArray(S, ci, ciOff + 11 * ldci + LANES)).intoArray(c, cOff + 11 * ldc + LANES);
        c120.fma(al, FloatVector.fromArray(S, ci, ciOff + 12 * ldci)).intoArray(c, cOff + 12 * ldc); c121.fma(al, FloatVector.fromArray(S, ci, ciOff + 12 * ldci + LANES)).intoArray(c, cOff + 12 * ldc + LANES);
        c130.fma(al, FloatVector.fromArray(S, ci, ciOff + 13 * ldci)).intoArray(c, cOff + 13 * ldc); c131.fma(al, FloatVector.fromArray(S, ci, ciOff + 13 * ldci + LANES)).intoArray(c, cOff + 13 * ldc + LANES);
    }
    // CHECKSTYLE.ON: LineLength

    // ---------------------------------------------------------------- element-wise

    @Override
    public float dot(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0, bound = S.loopBound(n);
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        for (; i + LANES < bound; i += 2 * LANES) {
            acc0 = FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.fromArray(S, y, yOff + i), acc0);
            acc1 = FloatVector.fromArray(S, x, xOff + i + LANES)
                    .fma(FloatVector.fromArray(S, y, yOff + i + LANES), acc1);
        }
        for (; i < bound; i += LANES)
            acc0 = FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.fromArray(S, y, yOff + i), acc0);
        FloatVector v = acc0.add(acc1);
        float s;
        // fixed lane tree, written out here: a call that takes a vector and is not inlined boxes it
        if (LANES > 16) s = sumLanesWide(v);
        else {
            if (LANES > 8) v = v.add(v.rearrange(X8));
            if (LANES > 4) v = v.add(v.rearrange(X4));
            if (LANES > 2) v = v.add(v.rearrange(X2));
            if (LANES > 1) v = v.add(v.rearrange(X1));
            s = v.lane(0);
        }
        for (; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0, bound = S.loopBound(n);
        FloatVector al = FloatVector.broadcast(S, alpha);
        for (; i < bound; i += LANES)
            FloatVector.fromArray(S, x, xOff + i).fma(al, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** Four vectors of columns at a time (x and y held in registers across the m rows), then one, then scalars. */
    @Override
    public void rankOneUpdateThenRead(float[] s, int sOff, int m, int n, float[] a, int aOff, float[] x, int xOff,
                                      float[] b, int bOff, float[] y, int yOff) {
        int c = 0, bound = S.loopBound(n);
        for (; c + 4 * LANES <= bound; c += 4 * LANES) {
            FloatVector x0 = FloatVector.fromArray(S, x, xOff + c), x1 = FloatVector.fromArray(S, x, xOff + c + LANES);
            FloatVector x2 = FloatVector.fromArray(S, x, xOff + c + 2 * LANES);
            FloatVector x3 = FloatVector.fromArray(S, x, xOff + c + 3 * LANES);
            FloatVector y0 = FloatVector.zero(S), y1 = y0, y2 = y0, y3 = y0;
            for (int j = 0, r = sOff + c; j < m; j++, r += n) {
                FloatVector aj = FloatVector.broadcast(S, a[aOff + j]), bj = FloatVector.broadcast(S, b[bOff + j]);
                FloatVector s0 = x0.fma(aj, FloatVector.fromArray(S, s, r));
                FloatVector s1 = x1.fma(aj, FloatVector.fromArray(S, s, r + LANES));
                FloatVector s2 = x2.fma(aj, FloatVector.fromArray(S, s, r + 2 * LANES));
                FloatVector s3 = x3.fma(aj, FloatVector.fromArray(S, s, r + 3 * LANES));
                s0.intoArray(s, r); s1.intoArray(s, r + LANES);
                s2.intoArray(s, r + 2 * LANES); s3.intoArray(s, r + 3 * LANES);
                y0 = s0.fma(bj, y0); y1 = s1.fma(bj, y1); y2 = s2.fma(bj, y2); y3 = s3.fma(bj, y3);
            }
            y0.intoArray(y, yOff + c); y1.intoArray(y, yOff + c + LANES);
            y2.intoArray(y, yOff + c + 2 * LANES); y3.intoArray(y, yOff + c + 3 * LANES);
        }
        for (; c + 2 * LANES <= bound; c += 2 * LANES) { // D = 32 at 16 lanes: one pass over S, not two
            FloatVector x0 = FloatVector.fromArray(S, x, xOff + c), x1 = FloatVector.fromArray(S, x, xOff + c + LANES);
            FloatVector y0 = FloatVector.zero(S), y1 = y0;
            for (int j = 0, r = sOff + c; j < m; j++, r += n) {
                FloatVector aj = FloatVector.broadcast(S, a[aOff + j]), bj = FloatVector.broadcast(S, b[bOff + j]);
                FloatVector s0 = x0.fma(aj, FloatVector.fromArray(S, s, r));
                FloatVector s1 = x1.fma(aj, FloatVector.fromArray(S, s, r + LANES));
                s0.intoArray(s, r); s1.intoArray(s, r + LANES);
                y0 = s0.fma(bj, y0); y1 = s1.fma(bj, y1);
            }
            y0.intoArray(y, yOff + c); y1.intoArray(y, yOff + c + LANES);
        }
        for (; c < bound; c += LANES) {
            FloatVector x0 = FloatVector.fromArray(S, x, xOff + c), y0 = FloatVector.zero(S);
            for (int j = 0, r = sOff + c; j < m; j++, r += n) {
                FloatVector s0 = x0.fma(FloatVector.broadcast(S, a[aOff + j]), FloatVector.fromArray(S, s, r));
                s0.intoArray(s, r);
                y0 = s0.fma(FloatVector.broadcast(S, b[bOff + j]), y0);
            }
            y0.intoArray(y, yOff + c);
        }
        for (; c < n; c++) {
            float acc = 0f;
            for (int j = 0, r = sOff + c; j < m; j++, r += n) {
                s[r] += a[aOff + j] * x[xOff + c];
                acc += b[bOff + j] * s[r];
            }
            y[yOff + c] = acc;
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float alpha) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += LANES) FloatVector.fromArray(S, x, off + i).mul(alpha).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= alpha;
    }

    @Override
    public float max(float[] x, int off, int n) {
        if (n < 1) throw new IllegalArgumentException("max of an empty range");
        int i = 0, bound = S.loopBound(n);
        float m = x[off];
        if (bound > 0) {
            // four chains: a vector max with Java's NaN and ±0 rules is several dependent uops (max is exact
            // and order-free, so the split gives the same result)
            FloatVector acc0 = FloatVector.fromArray(S, x, off), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (i = LANES; i + 3 * LANES < bound; i += 4 * LANES) {
                acc0 = acc0.max(FloatVector.fromArray(S, x, off + i));
                acc1 = acc1.max(FloatVector.fromArray(S, x, off + i + LANES));
                acc2 = acc2.max(FloatVector.fromArray(S, x, off + i + 2 * LANES));
                acc3 = acc3.max(FloatVector.fromArray(S, x, off + i + 3 * LANES));
            }
            for (; i < bound; i += LANES) acc0 = acc0.max(FloatVector.fromArray(S, x, off + i));
            m = Math.max(m, acc0.max(acc1).max(acc2.max(acc3)).reduceLanes(VectorOperators.MAX));
        }
        for (; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    @Override
    public float mulShiftSum(float[] x, int xOff, float[] y, int yOff, float shift, int n) {
        int i = 0, bound = S.loopBound(n);
        FloatVector sh = FloatVector.broadcast(S, shift);
        for (; i < bound; i += LANES)
            FloatVector.fromArray(S, x, xOff + i).mul(FloatVector.fromArray(S, y, yOff + i).sub(sh))
                    .intoArray(x, xOff + i);
        for (; i < n; i++) x[xOff + i] *= y[yOff + i] - shift;
        return sum(x, xOff, n);   // a second pass over n floats in L1, summed by sum's fixed lane tree
    }

    @Override
    public float sum(float[] x, int off, int n) {
        int i = 0, bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += LANES) acc = acc.add(FloatVector.fromArray(S, x, off + i));
        FloatVector v = acc;
        float s;
        // fixed lane tree, written out here: a call that takes a vector and is not inlined boxes it
        if (LANES > 16) s = sumLanesWide(v);
        else {
            if (LANES > 8) v = v.add(v.rearrange(X8));
            if (LANES > 4) v = v.add(v.rearrange(X4));
            if (LANES > 2) v = v.add(v.rearrange(X2));
            if (LANES > 1) v = v.add(v.rearrange(X1));
            s = v.lane(0);
        }
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    @Override
    public void expAffine(float[] x, int off, int n, float shift, float mul, float add) {
        int i = 0, bound = S.loopBound(n);
        FloatVector sh = FloatVector.broadcast(S, shift), mu = FloatVector.broadcast(S, mul),
                ad = FloatVector.broadcast(S, add);
        for (; i < bound; i += LANES)
            exp(FloatVector.fromArray(S, x, off + i).add(sh)).fma(mu, ad).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] = mul * expScalar(x[off + i] + shift) + add;
    }

    /**
     * Lane permutations for a fixed-order tree sum: lane i takes lane i ^ step (constants, so C2 folds them).
     */
    private static final jdk.incubator.vector.VectorShuffle<Float> X8 = LANES > 8 ? xor(8) : null,
            X4 = LANES > 4 ? xor(4) : null, X2 = LANES > 2 ? xor(2) : null, X1 = LANES > 1 ? xor(1) : null;

    private static jdk.incubator.vector.VectorShuffle<Float> xor(int step) {
        return jdk.incubator.vector.VectorShuffle.fromOp(S, i -> i ^ step);
    }

    // Lane sums use a fixed tree of IEEE adds (xor-shuffles 8, 4, 2, 1): reduceLanes(ADD) may add in one
    // order when compiled and in another when interpreted, giving different bits in different JIT tiers.

    /** Wider than AVX-512 (e.g. long SVE): a plain fixed-order loop. */
    private static float sumLanesWide(FloatVector v) {
        float[] t = new float[LANES];
        v.intoArray(t, 0);
        float s = 0f;
        for (float x : t) s += x;
        return s;
    }

    // exp(x) = 2^n · exp(r), n = round(x·log2 e), r = x − n·ln 2 (Cody-Waite, two parts), exp(r) by
    // a degree-7 polynomial (Cephes expf coefficients: about 1 ulp on |r| ≤ ln2/2). Only IEEE
    // add/mul/fma and bit moves: the same bits in the interpreter, C1 and C2, unlike
    // VectorOperators.EXP, whose compiled (SVML) and fallback results differ in the last bits.
    // Results below the smallest normal float (x < −87.34) flush to 0.
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5·2^23: adding it rounds to an integer
    private static final float EXP_HI = 88.7228317f, EXP_LO = -87.3365479f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    static FloatVector exp(FloatVector x) {
        // No clamp of x: outside [EXP_LO, EXP_HI] the 2^n bits are garbage, and the blends below replace
        // them; a NaN stays NaN through the polynomial (Java's vector max/min, NaN-exact, cost ~5 uops each)
        FloatVector t = x.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND));
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(S, P0), FloatVector.broadcast(S, P1));
        p = p.fma(r, FloatVector.broadcast(S, P2));
        p = p.fma(r, FloatVector.broadcast(S, P3));
        p = p.fma(r, FloatVector.broadcast(S, P4));
        p = p.fma(r, FloatVector.broadcast(S, P5));
        p = p.fma(r.mul(r), r).add(1f);
        // 2^n from the integer sitting in t's low mantissa bits
        var bits = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND)).add(127)
                .lanewise(VectorOperators.LSHL, 23);
        FloatVector y = p.mul(bits.reinterpretAsFloats());
        y = y.blend(FloatVector.zero(S), x.compare(VectorOperators.LT, EXP_LO));
        return y.blend(FloatVector.broadcast(S, Float.POSITIVE_INFINITY), x.compare(VectorOperators.GT, EXP_HI));
    }

    /** The same algorithm for one value (the loop tails), so every element gets the same bits. */
    static float expScalar(float x) {
        if (Float.isNaN(x)) return x;
        if (x < EXP_LO) return 0f;
        if (x > EXP_HI) return Float.POSITIVE_INFINITY;
        float t = Math.fma(x, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        p = Math.fma(p, r * r, r) + 1f;
        int e = Float.floatToRawIntBits(t) - Float.floatToRawIntBits(ROUND) + 127;
        return p * Float.intBitsToFloat(e << 23);
    }

    @Override
    public void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += LANES)
            FloatVector.fromArray(S, a, aOff + i).mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
        for (; i < n; i++) out[outOff + i] = a[aOff + i] * b[bOff + i];
    }

    @Override
    public void map(ElementwiseOp op, float[] x, int xOff, float[] out, int outOff, int n) {
        if (op == ElementwiseOp.SIN || op == ElementwiseOp.COS) {
            // Math.sin/cos give the same bits in every JIT tier; the Vector API's SIN/COS do not
            for (int i = 0; i < n; i++) out[outOff + i] = op.apply(x[xOff + i]);
            return;
        }
        // One small loop per map that calls the polynomial exp: in a single loop over a switch, C2
        // judged the exp call sites cold or the method too large, did not inline exp, and boxed
        // every vector (megabytes of garbage per call).
        int done = switch (op) {
            case EXP -> mapExp(x, xOff, out, outOff, n);
            case ELU_PLUS_ONE -> mapElu(x, xOff, out, outOff, n, false);
            case ELU_PLUS_ONE_GRAD -> mapElu(x, xOff, out, outOff, n, true);
            case GELU -> mapGelu(x, xOff, out, outOff, n);
            case GELU_GRAD -> mapGeluGrad(x, xOff, out, outOff, n);
            default -> mapPlain(op, x, xOff, out, outOff, n);
        };
        for (int i = done; i < n; i++) out[outOff + i] = mapScalar(op, x[xOff + i]);
    }

    /** The maps without exp; returns how many elements the vector loop did. */
    private static int mapPlain(ElementwiseOp op, float[] x, int xOff, float[] out, int outOff, int n) {
        int i = 0, bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S), one = FloatVector.broadcast(S, 1f);
        for (; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            FloatVector r = switch (op) {
                case RELU -> v.max(zero);
                case RELU_GRAD -> zero.blend(one, v.compare(VectorOperators.GT, 0f));
                case ABS -> v.abs();
                case SIGN -> {
                    VectorMask<Float> pos = v.compare(VectorOperators.GT, 0f), neg = v.compare(VectorOperators.LT, 0f);
                    yield zero.blend(one, pos).blend(one.neg(), neg);
                }
                case IDENTITY -> v;
                case ONE -> one;
                default -> throw new AssertionError(op + " has its own loop");
            };
            r.intoArray(out, outOff + i);
        }
        return i;
    }

    private static int mapExp(float[] x, int xOff, float[] out, int outOff, int n) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += LANES) exp(FloatVector.fromArray(S, x, xOff + i)).intoArray(out, outOff + i);
        return i;
    }

    /** elu(x) + 1 (x + 1 above 0, exp(x) below), or its derivative (1 above 0, exp(x) below). */
    private static int mapElu(float[] x, int xOff, float[] out, int outOff, int n, boolean grad) {
        int i = 0, bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S), one = FloatVector.broadcast(S, 1f);
        for (; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            exp(v.min(zero)).blend(grad ? one : v.add(one), v.compare(VectorOperators.GT, 0f))
                    .intoArray(out, outOff + i);
        }
        return i;
    }

    /** GELU as x / (1 + exp(−2u)). */
    private static int mapGelu(float[] x, int xOff, float[] out, int outOff, int n) {
        int i = 0, bound = S.loopBound(n);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            v.div(exp(geluU2(v)).add(one)).intoArray(out, outOff + i);
        }
        return i;
    }

    /** GELU' = s + x·du·s·(1 − s), s = 1 / (1 + e), e = exp(−2u), 1 − s = e·s (1 where e overflows). */
    private static int mapGeluGrad(float[] x, int xOff, float[] out, int outOff, int n) {
        int i = 0, bound = S.loopBound(n);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            FloatVector e = exp(geluU2(v)), s = one.div(e.add(one));
            FloatVector es = e.mul(s).blend(one, e.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
            FloatVector du = v.mul(v).fma(FloatVector.broadcast(S, 3 * GELU_A), one).mul(2 * GELU_C);
            v.mul(du).mul(es).fma(s, s).intoArray(out, outOff + i);
        }
        return i;
    }

    private static final float GELU_C = (float) ElementwiseOp.GELU_C, GELU_A = (float) ElementwiseOp.GELU_A;

    /** −2u = −2·√(2/π)·(x + 0.044715·x³), the exponent of the GELU sigmoid form. */
    private static FloatVector geluU2(FloatVector x) {
        return x.mul(x).fma(FloatVector.broadcast(S, GELU_A), FloatVector.broadcast(S, 1f)).mul(x).mul(-2 * GELU_C);
    }

    /** The loop tail: the same algorithm as the vector body for the maps that use the polynomial exp. */
    private static float mapScalar(ElementwiseOp op, float x) {
        return switch (op) {
            case EXP -> expScalar(x);
            case ELU_PLUS_ONE -> x > 0 ? x + 1f : expScalar(x);
            case ELU_PLUS_ONE_GRAD -> x > 0 ? 1f : expScalar(x);
            case GELU -> x / (expScalar(-2 * GELU_C * (Math.fma(x * x, GELU_A, 1f) * x)) + 1f);
            case GELU_GRAD -> {
                float e = expScalar(-2 * GELU_C * (Math.fma(x * x, GELU_A, 1f) * x)), s = 1f / (e + 1f);
                float es = e == Float.POSITIVE_INFINITY ? 1f : e * s;
                float du = 2 * GELU_C * Math.fma(x * x, 3 * GELU_A, 1f);
                yield Math.fma(x * du * es, s, s);
            }
            default -> op.apply(x);
        };
    }

    // ---------------------------------------------------------------- FMA peak

    /**
     * Measures this machine's vector FMA throughput in GFLOP/s (2 flops per lane per FMA) on
     * {@code threads} threads for about {@code millis} ms: 12 independent accumulator chains per
     * thread, enough to cover FMA latency on two FMA pipes.
     */
    public static double measureFmaPeak(int threads, int millis) {
        double[] rates = new double[threads];
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            final int id = t;
            ts[t] = new Thread(() -> rates[id] = fmaLoop(millis));
            ts[t].start();
        }
        double total = 0;
        for (int t = 0; t < threads; t++) {
            try { ts[t].join(); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            total += rates[t];
        }
        return total;
    }

    private static double fmaLoop(int millis) {
        long iters = 0, start = System.nanoTime(), warmEnd = start + millis * 400_000L,
                end = start + millis * 1_000_000L;
        float sink = 0;
        while (System.nanoTime() < warmEnd) sink += fmaBlock(1 << 14);  // reach C2 first
        long t0 = System.nanoTime(), now;
        do {
            sink += fmaBlock(1 << 14);
            iters += 1 << 14;
        } while ((now = System.nanoTime()) < end);
        if (sink == 42f) System.out.print("");
        return iters * 12.0 * 2 * LANES / (now - t0);
    }

    /** 12 independent FMA chains, n steps each; returns a lane so the work is not dead. */
    private static float fmaBlock(int n) {
        FloatVector a = FloatVector.broadcast(S, 0.999f), b = FloatVector.broadcast(S, 1e-3f);
        FloatVector c0 = FloatVector.broadcast(S, 1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0,
                c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < n; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).lane(0);
    }

    // ---------------------------------------------------------------- threading

    @Override
    public void parallelFor(int n, IntConsumer body) {
        team.run(n, body);
    }

    @Override
    public void phases(int parts, int phases, PhaseBody body) {
        team.phases(parts, phases, body);
    }
}
