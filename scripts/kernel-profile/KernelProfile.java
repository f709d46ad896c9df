import dev.performer.attention.Attention;
import dev.performer.attention.Dims;
import dev.performer.attention.FavorAttention;
import dev.performer.attention.FeatureMap;
import dev.performer.attention.Projection;
import dev.performer.kernel.Backend;
import dev.performer.kernel.ElementwiseOp;
import dev.performer.kernel.Kernels;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.IntConsumer;

/**
 * Where one FAVOR+ softmax layer's forward+backward spends its time, kernel call by kernel call: the
 * layer runs on one thread over a Kernels that times every call it forwards to the vector backend,
 * keyed by the call and its shape (B 1, H 8, D 64, M 256). A diagnostic, not a benchmark: each timed
 * call adds two System.nanoTime reads (the overhead per call is measured and printed), which weighs
 * on the small element-wise calls, not on the products.
 *
 *   java --add-modules jdk.incubator.vector -cp performer-core/target/classes \
 *       scripts/kernel-profile/KernelProfile.java causal|bidir L [iterations] [fwd]
 *
 * With {@code fwd} only the forward is run and timed.
 */
public class KernelProfile {

    /** Forwards every call to k, adding its time, count and (products) flops to acc while on. */
    static final class Timed implements Kernels {
        final Kernels k;
        final Map<String, long[]> acc = new TreeMap<>();
        boolean on;

        Timed(Kernels k) { this.k = k; }

        /** elapsed comes first: Java evaluates arguments in order, so the key is built after the clock is read. */
        void add(long elapsed, String key, double flops) {
            if (!on) return;
            long[] a = acc.computeIfAbsent(key, x -> new long[3]);
            a[0] += elapsed;
            a[1]++;
            a[2] += (long) flops;
        }

        static String op(boolean t) { return t ? "T" : "N"; }

        /** An element-wise call's length as a key: exact from 64 on, below that one bucket. */
        static String size(int n) { return n >= 64 ? String.valueOf(n) : "<64"; }

        @Override public String name() { return k.name(); }
        @Override public String describe() { return k.describe() + ", timed"; }
        @Override public int threads() { return 1; }
        @Override public void parallelFor(int n, IntConsumer body) { for (int i = 0; i < n; i++) body.accept(i); }

        @Override public void gemm(boolean ta, boolean tb, int m, int n, int kk, float al, float[] a, int ao, int lda,
                                   float[] b, int bo, int ldb, float be, float[] c, int co, int ldc) {
            long t = System.nanoTime();
            k.gemm(ta, tb, m, n, kk, al, a, ao, lda, b, bo, ldb, be, c, co, ldc);
            add(System.nanoTime() - t, "gemm " + op(ta) + op(tb) + " " + m + "x" + n + "x" + kk, 2.0 * m * n * kk);
        }

        @Override public void gemmLower(boolean ta, boolean tb, int n, int kk, float al, float[] a, int ao, int lda,
                                        float[] b, int bo, int ldb, float[] c, int co, int ldc) {
            long t = System.nanoTime();
            k.gemmLower(ta, tb, n, kk, al, a, ao, lda, b, bo, ldb, c, co, ldc);
            add(System.nanoTime() - t, "gemmLower " + op(ta) + op(tb) + " " + n + "x" + n + "x" + kk, (double) n * (n + 1) * kk);
        }

        @Override public void gemmTriangular(boolean tl, int m, int n, float al, float[] l, int lo, int ldl, float[] b,
                                             int bo, int ldb, float be, float[] c, int co, int ldc) {
            long t = System.nanoTime();
            k.gemmTriangular(tl, m, n, al, l, lo, ldl, b, bo, ldb, be, c, co, ldc);
            add(System.nanoTime() - t, "gemmTriangular " + op(tl) + " " + m + "x" + n + "x" + m, (double) m * (m + 1) * n);
        }

        @Override public float dot(float[] x, int xo, float[] y, int yo, int n) {
            long t = System.nanoTime();
            float r = k.dot(x, xo, y, yo, n);
            add(System.nanoTime() - t, "dot " + size(n), 0);
            return r;
        }

        @Override public void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
            long t = System.nanoTime();
            k.axpy(a, x, xo, y, yo, n);
            add(System.nanoTime() - t, "axpy " + size(n), 0);
        }

        @Override public void scale(float[] x, int o, int n, float a) {
            long t = System.nanoTime();
            k.scale(x, o, n, a);
            add(System.nanoTime() - t, "scale " + size(n), 0);
        }

        @Override public float max(float[] x, int o, int n) {
            long t = System.nanoTime();
            float r = k.max(x, o, n);
            add(System.nanoTime() - t, "max " + size(n), 0);
            return r;
        }

        @Override public float sum(float[] x, int o, int n) {
            long t = System.nanoTime();
            float r = k.sum(x, o, n);
            add(System.nanoTime() - t, "sum " + size(n), 0);
            return r;
        }

        @Override public float mulShiftSum(float[] x, int xo, float[] y, int yo, float s, int n) {
            long t = System.nanoTime();
            float r = k.mulShiftSum(x, xo, y, yo, s, n);
            add(System.nanoTime() - t, "mulShiftSum " + size(n), 0);
            return r;
        }

        @Override public void expAffine(float[] x, int o, int n, float s, float m, float a) {
            long t = System.nanoTime();
            k.expAffine(x, o, n, s, m, a);
            add(System.nanoTime() - t, "expAffine " + size(n), 0);
        }

        @Override public void mul(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            long t = System.nanoTime();
            k.mul(a, ao, b, bo, o, oo, n);
            add(System.nanoTime() - t, "mul " + size(n), 0);
        }

        @Override public void map(ElementwiseOp op, float[] x, int xo, float[] o, int oo, int n) {
            long t = System.nanoTime();
            k.map(op, x, xo, o, oo, n);
            add(System.nanoTime() - t, "map " + op + " " + size(n), 0);
        }
    }

    /**
     * Runs 2·iters passes, the first half warming the JIT up, and returns the wall time of the second
     * half; with a Timed, its clock is on for the second half only.
     */
    static long wallOfSecondHalf(FavorAttention fa, Dims dims, float[] q, float[] k, float[] v, float[] dout,
                                 float[] out, float[] dq, float[] dk, float[] dv, int iters, boolean forwardOnly,
                                 Timed tk) {
        Attention.Saved s = null;
        long wall = 0;
        for (int it = 0; it < 2 * iters; it++) {
            if (tk != null) tk.on = it >= iters;
            long w0 = System.nanoTime();
            s = fa.forward(dims, q, k, v, null, out, s);
            if (!forwardOnly) fa.backward(s, dout, dq, dk, dv);
            if (it >= iters) wall += System.nanoTime() - w0;
        }
        return wall;
    }

    public static void main(String[] args) {
        if (args.length < 2 || !(args[0].equals("causal") || args[0].equals("bidir"))) {
            System.err.println("usage: KernelProfile causal|bidir L [iterations] [fwd]");
            System.exit(2);
        }
        boolean causal = args[0].equals("causal");
        int l = Integer.parseInt(args[1]), iters = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        boolean forwardOnly = args.length > 3 && args[3].equals("fwd");
        int h = 8, d = 64, m = 256;
        Kernels base = Kernels.create(Backend.VECTOR, 1);
        Timed tk = new Timed(base);
        FavorAttention fa = FavorAttention.random(tk, FeatureMap.softmax(1e-3f), m, d, causal,
                Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, 7);
        Dims dims = Dims.self(1, h, l, d);
        SplittableRandom r = new SplittableRandom(1);
        int n = dims.qSize();
        float[] q = new float[n], k = new float[n], v = new float[n], dout = new float[n];
        float[] out = new float[n], dq = new float[n], dk = new float[n], dv = new float[n];
        for (float[] x : new float[][]{q, k, v, dout}) for (int i = 0; i < n; i++) x[i] = (float) (0.3 * r.nextGaussian());
        long wall = wallOfSecondHalf(fa, dims, q, k, v, dout, out, dq, dk, dv, iters, forwardOnly, tk);
        // the same layer over the backend itself, untimed: the wall time without this decorator
        FavorAttention plain = FavorAttention.random(base, FeatureMap.softmax(1e-3f), m, d, causal,
                Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, 7);
        long plainWall = wallOfSecondHalf(plain, dims, q, k, v, dout, out, dq, dk, dv, iters, forwardOnly, null);
        long calls = 0, total = 0;
        for (long[] a : tk.acc.values()) { total += a[0]; calls += a[1]; }
        long t0 = System.nanoTime();                  // the timer's own cost: two reads per call
        long sink = 0;
        for (int i = 0; i < 1_000_000; i++) sink += System.nanoTime();
        double perRead = (System.nanoTime() - t0) / 1e6;
        System.out.printf("%s %s, L %d, B 1, H 8, D 64, M 256, one thread, %s; %d timed iterations%n", fa.name(),
                forwardOnly ? "forward" : "forward+backward", l, base.describe(), iters);
        System.out.printf("%9s %6s %9s %9s  %s%n", "ms/iter", "share", "calls", "GFLOP/s", "call");
        final long all = total;
        tk.acc.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0])).forEach(e -> {
            long[] a = e.getValue();
            System.out.printf("%9.2f %5.1f%% %9d %9s  %s%n", a[0] / 1e6 / iters, 100.0 * a[0] / all, a[1] / iters,
                    a[2] == 0 ? "" : String.format("%.1f", a[2] / (double) a[0]), e.getKey());
        });
        System.out.printf("in kernel calls %.2f ms/iter over %d calls; the timer adds about %.0f ns per call (%.2f"
                + " ms/iter)%s%n", total / 1e6 / iters, calls / iters, 2 * perRead, 2 * perRead * calls / iters / 1e6,
                sink == 42 ? "" : "");
        System.out.printf("wall %.2f ms/iter timed, %.2f outside kernel calls (the layer's own loops and this"
                + " decorator's keys and map); %.2f ms/iter without the decorator%n", wall / 1e6 / iters,
                (wall - total) / 1e6 / iters, plainWall / 1e6 / iters);
    }
}
