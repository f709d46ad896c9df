package dev.performer.bench;

import dev.performer.attention.FeatureKind;
import dev.performer.attention.FeatureMap;
import dev.performer.attention.Projection;
import dev.performer.kernel.Kernels;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
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
 * The FAVOR+ feature map alone ({@link FeatureMap#forward}): φ (B·H·L × M) of (B, H, L, D) =
 * (1, 8, L, 64) inputs with M = 256 orthogonal χ-scaled projections, one head per task on the
 * backend's threads as in the attention layer. Per head: the projection GEMM (2·L·M·D flops),
 * then for softmax the stabilizer (row max for queries, max over all rows for keys) and
 * ratio·(exp(u − |x~|²/2 − c) + eps); for relu max(u, 0) + eps.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {Backends.ADD_MODULES, Backends.VECTOR_MODULE, Backends.NATIVE_ACCESS,
        Backends.PARALLEL_GC, Backends.UNSAFE_ALLOW})
public class FeatureMapBench {

    static final int BH = 8, D = 64, M = 256;

    /** softmax (SM+, eps 1e-6) or relu (eps 1e-3). */
    @Param({"softmax", "relu"})
    public String map;
    /** query (per-row stabilizer) or key (one stabilizer over all rows of a head). */
    @Param({"query", "key"})
    public String rows;
    @Param({"1024", "4096"})
    public int L;
    @Param({"vector"})
    public String backend;
    @Param({"2"})
    public int threads;

    Kernels kern;
    FeatureMap fm;
    float[] x, w, phi;
    IntConsumer body;

    @Setup(Level.Trial)
    public void setup() {
        fm = FeatureKind.of(map).map();   // each map's default eps, as the attention layers use it
        boolean query = switch (rows) {
            case "query" -> true;
            case "key" -> false;
            default -> throw new IllegalArgumentException("rows must be query or key, got " + rows);
        };
        kern = Backends.kernels(backend, threads);
        x = Inputs.gaussian(BH * L * D, 11);
        w = Projection.draw(Projection.Type.ORTHOGONAL, Projection.Scaling.CHI, M, D, AttentionBench.PROJECTION_SEED);
        int mf = fm.features(M, D);
        phi = new float[BH * L * mf];
        int l = L;
        body = h -> fm.forward(kern, x, h * l * D, l, D, w, M, query, phi, h * l * mf);
    }

    @TearDown(Level.Trial)
    public void tearDown() { kern.close(); }

    @Benchmark
    public float[] features() {
        kern.parallelFor(BH, body);
        return phi;
    }
}
