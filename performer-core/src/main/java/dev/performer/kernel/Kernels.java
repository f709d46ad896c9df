package dev.performer.kernel;

import java.util.function.IntConsumer;

/**
 * Float32 dense kernels used by the attention and model layers. All matrices are row-major
 * {@code float[]} slices given by an offset and a leading dimension (row stride).
 *
 * <p>Implementations: {@link ScalarKernels} (reference) and {@link VectorKernels} (fast).
 * Choose with {@link #create(String, int)}; pass the instance in, there is no global default.
 */
public interface Kernels extends AutoCloseable {

    /** Short backend name, e.g. {@code "scalar"} or {@code "vector"}. */
    String name();

    /** Worker threads used by {@link #parallelFor} and by large GEMMs. */
    int threads();

    /** A one-line description: backend, vector species, threads. */
    String describe();

    /**
     * General matrix multiply: {@code C = alpha·op(A)·op(B) + beta·C}, with op(A) m×k and
     * op(B) k×n, C m×n. {@code op(A) = A} is read as {@code a[aOff + i*lda + p]} and
     * {@code op(A) = Aᵀ} as {@code a[aOff + p*lda + i]}; likewise for B. When beta is 0, C is
     * overwritten (NaNs in C do not propagate). C must not alias A or B.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              float alpha, float[] a, int aOff, int lda,
              float[] b, int bOff, int ldb,
              float beta, float[] c, int cOff, int ldc);

    /**
     * The lower triangle of a square product: {@code C = tril(alpha·op(A)·op(B))}, op(A) n×k, op(B)
     * k×n, C n×n overwritten, its entries above the diagonal set to 0 (the masked scores of a causal
     * chunk). Backends may skip the blocks of the product above the diagonal; the entries they keep are
     * those of {@link #gemm}. This default is gemm followed by the zeroing.
     */
    default void gemmLower(boolean transA, boolean transB, int n, int k, float alpha, float[] a, int aOff, int lda,
                           float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        gemm(transA, transB, n, n, k, alpha, a, aOff, lda, b, bOff, ldb, 0f, c, cOff, ldc);
        for (int i = 0; i + 1 < n; i++) java.util.Arrays.fill(c, cOff + i * ldc + i + 1, cOff + i * ldc + n, 0f);
    }

    /**
     * A product whose left factor is triangular: {@code C = alpha·op(L)·B + beta·C} for L (m×m) zero
     * above its diagonal, so op(L) = L is lower and op(L) = Lᵀ upper triangular; B m×n, C m×n (a
     * causal chunk's masked scores times its values or features). The caller guarantees the zeros;
     * backends may skip the blocks of L they fill (reading them or not), and give {@link #gemm}'s
     * result up to the order of the sum. This default is gemm.
     */
    default void gemmTriangular(boolean transL, int m, int n, float alpha, float[] l, int lOff, int ldl,
                                float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        gemm(transL, false, m, n, m, alpha, l, lOff, ldl, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** Σ x[i]·y[i] over n elements. */
    float dot(float[] x, int xOff, float[] y, int yOff, int n);

    /** y += alpha·x over n elements. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /**
     * A rank-one update followed by a read of the updated rows, the recurrent FAVOR+ step of one head
     * fused so that its state is traversed once: S_j += a_j·x for the m rows S_j (n floats each, row
     * stride n, at sOff), then y = Σ_j b_j·S_j (n floats; overwritten). This default is the axpy
     * composition; backends may fuse it, summing y over j in the same order.
     */
    default void rankOneUpdateThenRead(float[] s, int sOff, int m, int n, float[] a, int aOff, float[] x, int xOff,
                                       float[] b, int bOff, float[] y, int yOff) {
        java.util.Arrays.fill(y, yOff, yOff + n, 0f);
        for (int j = 0; j < m; j++) {
            axpy(a[aOff + j], x, xOff, s, sOff + j * n, n);
            axpy(b[bOff + j], s, sOff + j * n, y, yOff, n);
        }
    }

    /** x *= alpha over n elements. */
    void scale(float[] x, int off, int n, float alpha);

    /** max of x over n ≥ 1 elements. */
    float max(float[] x, int off, int n);

    /** Σ x over n elements. */
    float sum(float[] x, int off, int n);

    /**
     * In place x[i] = x[i]·(y[i] − shift) over n elements; returns Σ x[i] of the new values (the
     * backward of positive random features: dφ ⊙ (φ − ratio·eps) and its row sum). The default sums in
     * index order; backends may sum in another fixed order.
     */
    default float mulShiftSum(float[] x, int xOff, float[] y, int yOff, float shift, int n) {
        float total = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i] * (y[yOff + i] - shift);
            x[xOff + i] = v;
            total += v;
        }
        return total;
    }

    /** In place: x[i] = mul·exp(x[i] + shift) + add. The fused core of positive random features. */
    void expAffine(float[] x, int off, int n, float shift, float mul, float add);

    /** out[i] = a[i]·b[i] (out may alias a or b exactly). */
    void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n);

    /** Element-wise map {@code out[i] = op(x[i])} (out may alias x exactly). */
    void map(ElementwiseOp op, float[] x, int xOff, float[] out, int outOff, int n);

    /**
     * Runs {@code body.accept(i)} for i in [0, n) on the backend's threads and waits. Calls to
     * {@link #gemm} from inside the body run single-threaded (no nested parallelism).
     */
    void parallelFor(int n, IntConsumer body);

    /** One part of one phase of {@link #phases}. */
    @FunctionalInterface
    interface PhaseBody {
        void run(int phase, int part);
    }

    /**
     * Runs {@code body.run(phase, part)} for every phase in [0, phases) in order and every part in
     * [0, parts): the parts of a phase in parallel, each phase after all parts of the one before it
     * (a barrier between phases, whose writes are visible to the next). Part j runs on the same thread
     * in every phase and every call (thread j mod T of T), so what a part touches stays in that core's
     * caches: a decoding step split by heads and columns keeps each half of the states and weights on
     * its own core. Runs serially, phase by phase and part by part, on one thread, from inside a
     * parallel body, or while another call runs; results must not depend on that. Rethrows the first
     * failure after every thread has stopped (the phases after a failure are skipped).
     */
    default void phases(int parts, int phases, PhaseBody body) {
        for (int p = 0; p < phases; p++)
            for (int j = 0; j < parts; j++) body.run(p, j);
    }

    @Override
    default void close() {}

    /**
     * Creates a backend: {@link Backend#SCALAR} (reference, one thread), {@link Backend#VECTOR}
     * (Vector API, {@code threads} workers; threads ≤ 0 means all available processors) or
     * {@link Backend#OPENBLAS} (OpenBLAS GEMM through FFM, when the library is installed).
     */
    static Kernels create(Backend backend, int threads) {
        int t = threads <= 0 ? Runtime.getRuntime().availableProcessors() : threads;
        return switch (backend) {
            case SCALAR -> new ScalarKernels();
            case VECTOR -> new VectorKernels(t);
            case OPENBLAS -> new OpenBlasKernels(OpenBlas.load().orElseThrow(() -> new IllegalArgumentException(
                    "backend openblas: libopenblas.so.0 not found (apt-get install libopenblas0-pthread, "
                            + "or set PERFORMER_OPENBLAS to its path)")), t);
        };
    }

    /** {@link #create(Backend, int)} on all available processors. */
    static Kernels create(Backend backend) { return create(backend, 0); }

    static void checkMatrix(String what, float[] x, int off, int rows, int cols, int ld) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException(what + ": negative shape " + rows + "x" + cols);
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new IllegalArgumentException(what + ": leading dimension " + ld + " < columns " + cols);
        long last = (long) off + (long) (rows - 1) * ld + cols;
        if (off < 0 || last > x.length)
            throw new IndexOutOfBoundsException(what + ": " + rows + "x" + cols + " (ld " + ld + ") at offset "
                    + off + " exceeds array of length " + x.length);
    }

    /** Validates gemm arguments (shared by implementations). */
    static void checkGemm(boolean transA, boolean transB, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc) {
        if (transA) checkMatrix("gemm A", a, aOff, k, m, lda); else checkMatrix("gemm A", a, aOff, m, k, lda);
        if (transB) checkMatrix("gemm B", b, bOff, n, k, ldb); else checkMatrix("gemm B", b, bOff, k, n, ldb);
        checkMatrix("gemm C", c, cOff, m, n, ldc);
        if (m > 0 && n > 0 && (c == a || c == b))
            throw new IllegalArgumentException("gemm: C must not alias A or B");
    }
}
