package dev.performer.model;

import dev.performer.data.Tokenizer;
import static org.junit.jupiter.api.Assertions.*;

import dev.performer.attention.AttentionSpec;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import dev.performer.train.AdamW;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * "No per-step allocation in the hot path": after the first steps at a shape, a training step
 * (forward with dropout, backward, AdamW) allocates no buffers. Measured with the JVM's per-thread
 * allocation counters summed over all threads (the kernel pool's workers included), at two
 * sequence lengths: what remains is a few small task handles per parallel call, the same at
 * T = 64 and T = 512, while one activation buffer at T = 512 is already 256 KB. Runs in a JVM of its
 * own (tag fresh-jvm): in a JVM that has also run the scalar and OpenBLAS backends and dozens of
 * other shapes, C2's profiles differ and it may leave a vector helper un-inlined (measured: a few
 * MB of boxed vectors per step), which is a property of that mixed JVM, not of a training process.
 */
@Tag("fresh-jvm")
class StepAllocationTest {

    static final Kernels KERN = new VectorKernels(2);

    @AfterAll
    static void close() { KERN.close(); }

    static long allocatedBytes() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) if (b > 0) sum += b;
        return sum;
    }

    /** Mean bytes allocated per training step over `steps` steps, after `warm` steps at this shape. */
    static double bytesPerStep(PerformerModel m, AdamW opt, int b, int t, int warm, int steps) {
        ModelConfig cfg = m.config();
        SplittableRandom r = new SplittableRandom(5);
        int[] tok = new int[b * t], tgt = new int[b * t];
        for (int i = 0; i < tok.length; i++) {
            tok[i] = 5 + r.nextInt(20);
            tgt[i] = r.nextInt(3) == 0 ? 5 + r.nextInt(20) : -1;
        }
        float[] mask = new float[b * t];
        java.util.Arrays.fill(mask, 1f);
        mask[b * t - 1] = 0f;
        long before = 0;
        for (int s = 0; s < warm + steps; s++) {
            if (s == warm) before = allocatedBytes();
            m.zeroGrad();
            m.forward(tok, tgt, b, t, cfg.causal() ? null : mask, true, s);
            m.backward();
            opt.step(m.params(), m.grads(), 1e-3f);
        }
        return (double) (allocatedBytes() - before) / steps;
    }

    @ParameterizedTest(name = "{0} causal={1} {2}")
    @CsvSource({"favor-softmax,false,learned", "favor-softmax,true,rotary", "favor-relu,true,sinusoidal",
            "exact,false,rotary", "identity,true,learned"})
    void trainingStepAllocatesNoBuffers(String att, boolean causal, String pos) {
        ModelConfig cfg = new ModelConfig(Tokenizer.PROTEIN, 30, 512, 2, 64, 4, 128, AttentionSpec.of(att, 32),
                causal ? Direction.CAUSAL : Direction.BIDIRECTIONAL, Positions.of(pos), 0.1f);
        PerformerModel m = new PerformerModel(cfg, KERN, 3);
        AdamW opt = new AdamW(m.layout(), AdamW.Config.defaults().withBetas(0.9f, 0.999f));
        // 150 short steps let C2 compile the vector loops (before that, un-inlined Vector API calls box
        // every vector: megabytes per step that are the JIT warming up, not the model allocating). On a
        // loaded machine the compiler threads may need longer: up to 8 rounds, keeping the least per step.
        // A buffer allocated by every step shows in every round, so the minimum still catches it.
        long buffer = 2L * 512 * 64 * Float.BYTES; // one (N, C) activation at T = 512
        double small = Double.MAX_VALUE, large = Double.MAX_VALUE;
        for (int round = 0; round < 8 && !(large < buffer / 8 && large - small < 16 * 1024); round++) {
            small = Math.min(small, bytesPerStep(m, opt, 2, 64, round == 0 ? 150 : 30, 4));
            large = Math.min(large, bytesPerStep(m, opt, 2, 512, 4, 4));
        }
        assertTrue(large < buffer / 8, "a step at T=512 allocated " + large + " bytes");
        assertTrue(large - small < 16 * 1024, "allocation grows with T: " + small + " -> " + large + " bytes per step");
    }
}
