package dev.performer.kernel;

import java.util.function.IntConsumer;

/**
 * The reference backend: plain loops, one thread, float accumulation in the natural order.
 * Every fast backend is tested against this one.
 */
public final class ScalarKernels implements Kernels {

    @Override public String name() { return "scalar"; }
    @Override public int threads() { return 1; }
    @Override public String describe() { return "scalar (reference loops), 1 thread"; }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        Kernels.checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? alpha * s : alpha * s + beta * c[ci];
            }
        }
    }

    @Override
    public float dot(float[] x, int xOff, float[] y, int yOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    @Override
    public void scale(float[] x, int off, int n, float alpha) {
        for (int i = 0; i < n; i++) x[off + i] *= alpha;
    }

    @Override
    public float max(float[] x, int off, int n) {
        if (n < 1) throw new IllegalArgumentException("max of an empty range");
        float m = x[off];
        for (int i = 1; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    @Override
    public float sum(float[] x, int off, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += x[off + i];
        return s;
    }

    @Override
    public void expAffine(float[] x, int off, int n, float shift, float mul, float add) {
        for (int i = 0; i < n; i++) x[off + i] = mul * (float) Math.exp(x[off + i] + shift) + add;
    }

    @Override
    public void mul(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = a[aOff + i] * b[bOff + i];
    }

    @Override
    public void map(ElementwiseOp op, float[] x, int xOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = op.apply(x[xOff + i]);
    }

    @Override
    public void parallelFor(int n, IntConsumer body) {
        for (int i = 0; i < n; i++) body.accept(i);
    }
}
