package dev.performer.bench;

import dev.performer.kernel.Kernels;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Kernels#gemm} (C = op(A)·op(B), alpha 1, beta 0) on the shapes of one FAVOR+ head with
 * D = 64 and M = 256, and on a square matrix:
 * <ul>
 *   <li>{@code features}: pre-activations x·Wᵀ, m = L, n = M, k = D (B transposed);</li>
 *   <li>{@code state}: S = φ_kᵀ·V, m = M, n = D, k = L (A transposed);</li>
 *   <li>{@code output}: φ_q·S, m = L, n = D, k = M;</li>
 *   <li>{@code square}: N×N·N×N with N = 1024 (independent of L).</li>
 * </ul>
 * Each call costs 2·m·n·k flops. The attention layer runs these per head, single-threaded inside
 * its parallelFor over heads; here each GEMM runs alone and uses the backend's threads.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {Backends.ADD_MODULES, Backends.VECTOR_MODULE, Backends.NATIVE_ACCESS,
        Backends.PARALLEL_GC, Backends.UNSAFE_ALLOW})
public class GemmBench {

    static final int D = 64, M = 256;

    /** Operands of the three FAVOR+ shapes at sequence length L. */
    @State(Scope.Benchmark)
    public static class FavorShapes {
        @Param({"1024", "4096"})
        public int L;
        /** vector, or openblas (fails this point when the library is not installed). */
        @Param({"vector"})
        public String backend;
        @Param({"2"})
        public int threads;

        Kernels kern;
        float[] x, w, u;          // features: x (L×D), W (M×D), u (L×M)
        float[] phiK, v, s;       // state: φ_k (L×M), V (L×D), S (M×D)
        float[] phiQ, out;        // output: φ_q (L×M), S as above, out (L×D)

        @Setup(Level.Trial)
        public void setup() {
            kern = Backends.kernels(backend, threads);
            x = Inputs.gaussian(L * D, 1);
            w = Inputs.gaussian(M * D, 2);
            u = new float[L * M];
            phiK = Inputs.uniform(L * M, 0f, 1f, 3);
            v = Inputs.gaussian(L * D, 4);
            s = new float[M * D];
            phiQ = Inputs.uniform(L * M, 0f, 1f, 5);
            out = new float[L * D];
            kern.gemm(true, false, M, D, L, 1f, phiK, 0, M, v, 0, D, 0f, s, 0, D); // a realistic S for output
        }

        @TearDown(Level.Trial)
        public void tearDown() { kern.close(); }
    }

    /** Operands of the square GEMM. */
    @State(Scope.Benchmark)
    public static class Square {
        @Param({"1024"})
        public int N;
        @Param({"vector"})
        public String backend;
        @Param({"2"})
        public int threads;

        Kernels kern;
        float[] a, b, c;

        @Setup(Level.Trial)
        public void setup() {
            kern = Backends.kernels(backend, threads);
            a = Inputs.gaussian(N * N, 6);
            b = Inputs.gaussian(N * N, 7);
            c = new float[N * N];
        }

        @TearDown(Level.Trial)
        public void tearDown() { kern.close(); }
    }

    /** u = x·Wᵀ: (L×D)·(M×D)ᵀ, 2·L·M·D flops. */
    @Benchmark
    public float[] features(FavorShapes st) {
        st.kern.gemm(false, true, st.L, M, D, 1f, st.x, 0, D, st.w, 0, D, 0f, st.u, 0, M);
        return st.u;
    }

    /** S = φ_kᵀ·V: (L×M)ᵀ·(L×D), 2·M·D·L flops. */
    @Benchmark
    public float[] state(FavorShapes st) {
        st.kern.gemm(true, false, M, D, st.L, 1f, st.phiK, 0, M, st.v, 0, D, 0f, st.s, 0, D);
        return st.s;
    }

    /** out = φ_q·S: (L×M)·(M×D), 2·L·D·M flops. */
    @Benchmark
    public float[] output(FavorShapes st) {
        st.kern.gemm(false, false, st.L, D, M, 1f, st.phiQ, 0, M, st.s, 0, D, 0f, st.out, 0, D);
        return st.out;
    }

    /** C = A·B, N×N each, 2·N³ flops. */
    @Benchmark
    public float[] square(Square st) {
        st.kern.gemm(false, false, st.N, st.N, st.N, 1f, st.a, 0, st.N, st.b, 0, st.N, 0f, st.c, 0, st.N);
        return st.c;
    }
}
