package dev.performer.bench;

import dev.performer.kernel.Kernels;
import java.util.Arrays;
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
 * The masked products of one causal FAVOR+ chunk (T = 64 rows, M = 256 features, D = 64), each as a
 * full {@link Kernels#gemm} and in its triangular form ({@link Kernels#gemmLower},
 * {@link Kernels#gemmTriangular}), on one thread as inside the attention layer:
 * <ul>
 *   <li>{@code scores…}: a = tril(Φq Φkᵀ), T×T from T×M and T×M (B transposed), 2·T²·M flops in full;</li>
 *   <li>{@code timesValues…}: a·V, T×D from T×T and T×D, 2·T²·D;</li>
 *   <li>{@code timesFeatures…}: a·Φk, T×M from T×T and T×M, 2·T²·M;</li>
 *   <li>{@code transposedTimesFeatures…}: aᵀ·Φq, the same with a transposed.</li>
 * </ul>
 * The full forms compute the zero half too (the scores' full form then zeroes it, as the layer did).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {Backends.ADD_MODULES, Backends.VECTOR_MODULE, Backends.NATIVE_ACCESS,
        Backends.PARALLEL_GC, Backends.UNSAFE_ALLOW})
@State(Scope.Benchmark)
public class ChunkBench {

    static final int T = 64, M = 256, D = 64;

    @Param({"vector"})
    public String backend;
    @Param({"1"})
    public int threads;

    Kernels kern;
    float[] phiQ, phiK, v, a, scores, out, feats;

    @Setup(Level.Trial)
    public void setup() {
        kern = Backends.kernels(backend, threads);
        phiQ = Inputs.uniform(T * M, 0f, 1f, 11);
        phiK = Inputs.uniform(T * M, 0f, 1f, 12);
        v = Inputs.gaussian(T * D, 13);
        a = Inputs.uniform(T * T, 0f, 1f, 14);
        for (int i = 0; i < T; i++) Arrays.fill(a, i * T + i + 1, (i + 1) * T, 0f);   // lower triangular
        scores = new float[T * T];
        out = new float[T * D];
        feats = new float[T * M];
    }

    @TearDown(Level.Trial)
    public void tearDown() { kern.close(); }

    /** tril(Φq Φkᵀ) by gemm and zeroing. */
    @Benchmark
    public float[] scoresFull() {
        kern.gemm(false, true, T, T, M, 1f, phiQ, 0, M, phiK, 0, M, 0f, scores, 0, T);
        for (int i = 0; i < T; i++) Arrays.fill(scores, i * T + i + 1, (i + 1) * T, 0f);
        return scores;
    }

    /** tril(Φq Φkᵀ) skipping the tiles above the diagonal. */
    @Benchmark
    public float[] scoresLower() {
        kern.gemmLower(false, true, T, M, 1f, phiQ, 0, M, phiK, 0, M, scores, 0, T);
        return scores;
    }

    @Benchmark
    public float[] timesValuesFull() {
        kern.gemm(false, false, T, D, T, 1f, a, 0, T, v, 0, D, 0f, out, 0, D);
        return out;
    }

    @Benchmark
    public float[] timesValuesTriangular() {
        kern.gemmTriangular(false, T, D, 1f, a, 0, T, v, 0, D, 0f, out, 0, D);
        return out;
    }

    @Benchmark
    public float[] timesFeaturesFull() {
        kern.gemm(false, false, T, M, T, 1f, a, 0, T, phiK, 0, M, 0f, feats, 0, M);
        return feats;
    }

    @Benchmark
    public float[] timesFeaturesTriangular() {
        kern.gemmTriangular(false, T, M, 1f, a, 0, T, phiK, 0, M, 0f, feats, 0, M);
        return feats;
    }

    @Benchmark
    public float[] transposedTimesFeaturesFull() {
        kern.gemm(true, false, T, M, T, 1f, a, 0, T, phiQ, 0, M, 0f, feats, 0, M);
        return feats;
    }

    @Benchmark
    public float[] transposedTimesFeaturesTriangular() {
        kern.gemmTriangular(true, T, M, 1f, a, 0, T, phiQ, 0, M, 0f, feats, 0, M);
        return feats;
    }
}
