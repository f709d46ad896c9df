package dev.performer.bench;

import dev.performer.attention.Attention;
import dev.performer.attention.AttentionSpec;
import dev.performer.attention.Dims;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * One attention layer on (B, H, L, D) = (1, 8, L, 64) float32 tensors, no key mask:
 * <ul>
 *   <li>{@code favor-softmax}: FAVOR+ with positive softmax features, M = 256 orthogonal
 *       projections with χ row lengths, eps 1e-6 (≈ 8·B·H·L·M·D flops forward,
 *       20·B·H·L·M·D forward+backward);</li>
 *   <li>{@code favor-relu}: FAVOR+ generalized attention with ReLU features, same projection, eps 1e-3;</li>
 *   <li>{@code exact}: tiled softmax attention with an online softmax, O(L·D) memory (nominal
 *       4·B·H·L²·D flops forward, 12·B·H·L²·D forward+backward);</li>
 *   <li>{@code identity}: returns V (the paper's 'X (OPT)' lower bound).</li>
 * </ul>
 * Each in bidirectional and causal form. As in the model's training loop, every call passes the
 * previous call's {@link Attention.Saved} back in, so the steady state allocates no per-call buffers.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {Backends.ADD_MODULES, Backends.VECTOR_MODULE, Backends.NATIVE_ACCESS,
        Backends.PARALLEL_GC, Backends.UNSAFE_ALLOW})
public class AttentionBench {

    static final int B = 1, H = 8, D = 64, M = 256;
    static final long PROJECTION_SEED = 42;

    @Param({"favor-softmax", "favor-relu", "exact", "identity"})
    public String method;
    @Param({"bidir", "causal"})
    public String direction;
    @Param({"1024", "4096"})
    public int L;
    /** vector, or openblas (fails this point when the library is not installed). */
    @Param({"vector"})
    public String backend;
    @Param({"2"})
    public int threads;

    Kernels kern;
    Attention att;
    Dims dims;
    float[] q, k, v, out, dout, dq, dk, dv;
    Attention.Saved saved;

    /**
     * The layer under test, from the library's one factory as {@code performer bench} builds it: M = 256
     * orthogonal features with χ(D) norms and each map's default eps (1e-6 SM+, 1e-3 ReLU).
     */
    static Attention build(String method, Kernels kern, boolean causal, int l) {
        return AttentionSpec.of(method, M).build(kern, D, causal, PROJECTION_SEED);
    }

    @Setup(Level.Trial)
    public void setup() {
        boolean causal = switch (direction) {
            case "bidir" -> false;
            case "causal" -> true;
            default -> throw new IllegalArgumentException("direction must be bidir or causal, got " + direction);
        };
        kern = Backends.kernels(backend, threads);
        att = build(method, kern, causal, L);
        dims = Dims.self(B, H, L, D);
        int n = dims.qSize();
        q = Inputs.gaussian(n, 11);
        k = Inputs.gaussian(n, 12);
        v = Inputs.gaussian(n, 13);
        dout = Inputs.gaussian(n, 14);
        out = new float[n];
        dq = new float[n];
        dk = new float[n];
        dv = new float[n];
        saved = att.forward(dims, q, k, v, null, out, null); // allocates the Saved that every call recycles
    }

    @TearDown(Level.Trial)
    public void tearDown() { kern.close(); }

    @Benchmark
    public float[] forward() {
        saved = att.forward(dims, q, k, v, null, out, saved);
        return out;
    }

    @Benchmark
    public void forwardBackward(Blackhole bh) {
        saved = att.forward(dims, q, k, v, null, out, saved);
        att.backward(saved, dout, dq, dk, dv);
        bh.consume(out);
        bh.consume(dq);
        bh.consume(dk);
        bh.consume(dv);
    }
}
