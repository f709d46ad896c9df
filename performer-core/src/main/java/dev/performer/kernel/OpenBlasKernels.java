package dev.performer.kernel;

import java.util.function.IntConsumer;

/**
 * The optional OpenBLAS backend: GEMM by OpenBLAS {@code cblas_sgemm} (through FFM), everything
 * else by {@link VectorKernels}. OpenBLAS runs single-threaded inside {@link #parallelFor}
 * bodies only in the sense that the caller's parallelism is over heads; its own thread count is
 * set to this backend's thread count.
 */
public final class OpenBlasKernels implements Kernels {

    private final OpenBlas blas;
    private final VectorKernels rest;

    public OpenBlasKernels(OpenBlas blas, int threads) {
        this.blas = blas;
        this.rest = new VectorKernels(threads);
        blas.setThreads(threads);
    }

    @Override public String name() { return "openblas"; }
    @Override public int threads() { return rest.threads(); }
    @Override public String describe() {
        return "openblas (" + blas.config() + ", " + blas.library() + ") + " + rest.describe();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        blas.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override public float dot(float[] x, int xOff, float[] y, int yOff, int n) {
        return rest.dot(x, xOff, y, yOff, n);
    }
    @Override public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        rest.axpy(alpha, x, xOff, y, yOff, n);
    }
    @Override public void scale(float[] x, int off, int n, float alpha) { rest.scale(x, off, n, alpha); }
    @Override public float max(float[] x, int off, int n) { return rest.max(x, off, n); }
    @Override public float sum(float[] x, int off, int n) { return rest.sum(x, off, n); }
    @Override public float mulShiftSum(float[] x, int xOff, float[] y, int yOff, float shift, int n) {
        return rest.mulShiftSum(x, xOff, y, yOff, shift, n);
    }
    @Override public void expAffine(float[] x, int off, int n, float shift, float mul, float add) {
        rest.expAffine(x, off, n, shift, mul, add);
    }
    @Override public void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        rest.mul(a, aOff, b, bOff, out, outOff, n);
    }
    @Override public void map(ElementwiseOp op, float[] x, int xOff, float[] out, int outOff, int n) {
        rest.map(op, x, xOff, out, outOff, n);
    }
    @Override public void parallelFor(int n, IntConsumer body) { rest.parallelFor(n, body); }
    @Override public void phases(int parts, int phases, PhaseBody body) { rest.phases(parts, phases, body); }
    @Override public void close() { rest.close(); }
}
