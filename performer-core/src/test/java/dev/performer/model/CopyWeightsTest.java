package dev.performer.model;

import dev.performer.data.Tokenizer;
import static org.junit.jupiter.api.Assertions.*;

import dev.performer.attention.AttentionSpec;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A model's weights under another attention: the paper's backward compatibility. */
class CopyWeightsTest {

    static final Kernels KERN = new VectorKernels(2);

    @AfterAll
    static void close() { KERN.close(); }

    static ModelConfig config(AttentionSpec att, int width) {
        return new ModelConfig(Tokenizer.PROTEIN, 30, 48, 2, width, 2, 64, att, Direction.BIDIRECTIONAL,
                Positions.LEARNED, 0f);
    }

    /** An exact model with weights moved off the init (so that attention matters), tokens and targets. */
    static PerformerModel trainedExact(SplittableRandom r) {
        PerformerModel m = new PerformerModel(config(new AttentionSpec.Exact(), 32), KERN, 5);
        float[] p = m.params();
        for (int i = 0; i < p.length; i++) p[i] += (float) (0.05 * r.nextGaussian());
        return m;
    }

    @Test
    void everySharedTensorIsCopiedAndTheProjectionIsOwn() {
        SplittableRandom r = new SplittableRandom(1);
        PerformerModel exact = trainedExact(r);
        PerformerModel favor = new PerformerModel(config(AttentionSpec.of("favor-softmax", 16), 32), KERN, 9);
        PerformerModel favorBefore = new PerformerModel(config(AttentionSpec.of("favor-softmax", 16), 32), KERN, 9);
        assertEquals(List.of(), favor.copyWeightsFrom(exact), "FAVOR+ has no weights of its own");
        assertArrayEquals(exact.params(), favor.params());
        assertArrayEquals(favorBefore.projection(0), favor.projection(0), "the projection stays this model's draw");
    }

    /** Mean over positions of the total-variation distance between the two models' next-token distributions. */
    static double meanTv(float[] p, float[] q, int v) {
        double s = 0;
        for (int i = 0; i < p.length; i += v) {
            double tv = 0;
            for (int j = 0; j < v; j++) tv += Math.abs(p[i + j] - q[i + j]);
            s += tv / 2;
        }
        return s / (p.length / v);
    }

    @Test
    void exactWeightsUnderFavorGiveNearlyTheExactDistributions() {
        SplittableRandom r = new SplittableRandom(2);
        PerformerModel exact = trainedExact(r);
        int b = 2, t = 48;
        int[] tok = new int[b * t];
        for (int i = 0; i < tok.length; i++) tok[i] = 5 + r.nextInt(25);
        exact.forward(tok, null, b, t, null, false, 0);
        float[] want = exact.probabilities().clone();
        String[] atts = {"identity", "favor-softmax:4", "favor-softmax:64", "favor-softmax:1024"};
        double[] tv = new double[atts.length];
        for (int k = 0; k < atts.length; k++) {
            String[] a = atts[k].split(":");
            PerformerModel m = new PerformerModel(config(AttentionSpec.of(a[0], a.length > 1 ? Integer.parseInt(a[1])
                    : 16), 32), KERN, 11);
            m.copyWeightsFrom(exact);
            m.forward(tok, null, b, t, null, false, 0);
            tv[k] = meanTv(m.probabilities(), want, 30);
        }
        // measured here: identity 0.089, M 4 0.0090, M 64 0.0014, M 1024 0.00043. The weights carry over: FAVOR+
        // is far closer to the attention they were trained with than no attention at all, and its Monte Carlo
        // error falls like 1/√M (4× per 16× the features; asked for 2×, margin for the draw)
        String all = Arrays.toString(tv);
        assertTrue(tv[3] < tv[0] / 50, "M 1024 much closer to exact than identity: " + all);
        for (int k = 2; k < atts.length; k++) assertTrue(tv[k] < tv[k - 1] / 2, "error falls with M: " + all);
    }

    @Test
    void attentionTensorsOfOneSideAreDrawnOrDroppedAndShapesMustMatch() {
        SplittableRandom r = new SplittableRandom(3);
        PerformerModel exact = trainedExact(r);
        PerformerModel lin = new PerformerModel(config(new AttentionSpec.Linformer(12, false), 32), KERN, 4);
        float[] e0 = Arrays.copyOfRange(lin.params(), lin.layout().offset("h0.att.e"),
                lin.layout().offset("h0.att.e") + lin.layout().get("h0.att.e").size());
        List<String> fresh = lin.copyWeightsFrom(exact);
        assertEquals(List.of("h0.att.e", "h0.att.f", "h1.att.e", "h1.att.f"), fresh);
        int at = lin.layout().offset("h0.att.e");
        for (int i = 0; i < e0.length; i++) assertEquals(e0[i], lin.params()[at + i], "E keeps its initialization");
        assertEquals(exact.params()[exact.layout().offset("h1.qkv.w")], lin.params()[lin.layout().offset("h1.qkv.w")]);
        // and back: Linformer's own tensors are dropped
        PerformerModel back = new PerformerModel(config(new AttentionSpec.Exact(), 32), KERN, 4);
        assertEquals(List.of(), back.copyWeightsFrom(lin));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PerformerModel(config(new AttentionSpec.Exact(), 64), KERN, 4).copyWeightsFrom(exact));
        assertTrue(e.getMessage().contains("wte is (30 x 32) in the source model, (30 x 64) here"), e.getMessage());
        PerformerModel deeper = new PerformerModel(new ModelConfig(Tokenizer.PROTEIN, 30, 48, 3, 32, 2, 64,
                new AttentionSpec.Exact(),
                Direction.BIDIRECTIONAL, Positions.LEARNED, 0f), KERN, 4);
        e = assertThrows(IllegalArgumentException.class, () -> deeper.copyWeightsFrom(exact));
        assertTrue(e.getMessage().contains("has no h2.ln1.g"), e.getMessage());
    }
}
