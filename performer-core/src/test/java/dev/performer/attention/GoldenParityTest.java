package dev.performer.attention;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.io.Npy;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.ScalarKernels;
import dev.performer.kernel.VectorKernels;
import dev.performer.testutil.Golden;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parity with every case in shared/golden/attention (float64 PyTorch reference): outputs,
 * features and gradients, on the scalar and the vector backend.
 *
 * <p>Error measure: max |got − want| / max |want| over the tensor. Bound: float32 rounding of
 * the inputs and of every operation is u = 2⁻²⁴ ≈ 6e-8 relative; errors of a length-K float
 * accumulation grow like u·√K (random rounding), and the pipeline chains three reductions
 * (over D for the features, over L for the key sums, over Mf for the query contraction), so
 * the expected error is about u·(√D + √L + √Mf) times the conditioning of the exp features,
 * whose arguments reach |u| + |x~|²/2 ≈ 10 here. Features are tested against 16·u·(√D + 1)
 * (one length-D reduction, then exp, whose relative error is the absolute error of its argument,
 * up to 10× the argument's relative error); outputs against 8·u·(√D + √L + √Mf); gradients, which
 * chain two more reductions and divide by the denominator twice, against 16·u·(√D + √L + √Mf).
 * Measured (the failure messages give the error and the bound): features ≤ 1.8e-6, outputs ≤ 1.3e-6,
 * gradients ≤ 1.1e-6.
 */
class GoldenParityTest {

    static final double U = Math.ulp(1f) / 2;
    static final Kernels[] BACKENDS = {new ScalarKernels(), new VectorKernels(2)};

    @AfterAll
    static void close() { for (Kernels k : BACKENDS) k.close(); }

    static Stream<Arguments> cases() {
        return Golden.cases().stream().flatMap(c -> Stream.of(Arguments.of(c, 0), Arguments.of(c, 1)));
    }

    static double relErr(float[] got, Npy.Array want) {
        assertEquals(want.data().length, got.length, "size");
        double err = 0, max = 0;
        for (int i = 0; i < got.length; i++) {
            assertTrue(Float.isFinite(got[i]), "non-finite value at " + i);
            err = Math.max(err, Math.abs(got[i] - want.data()[i]));
            max = Math.max(max, Math.abs(want.data()[i]));
        }
        return err / max;
    }

    @ParameterizedTest(name = "{0} backend {1}")
    @MethodSource("cases")
    void matchesGolden(String name, int backend) {
        Kernels kern = BACKENDS[backend];
        Golden.Case c = Golden.Case.load(name);
        int b = (int) c.num("B"), h = (int) c.num("H"), l = (int) c.num("L"), d = (int) c.num("D");
        boolean causal = c.bool("causal");
        Dims dims = Dims.self(b, h, l, d);
        float[] q = c.array("q").toFloats(), k = c.array("k").toFloats(), v = c.array("v").toFloats();
        float[] mask = c.bool("masked") ? c.array("key_mask").toFloats() : null;
        Attention att;
        int mf = 0;
        if (c.str("kind").equals("exact")) {
            att = new ExactAttention(kern, causal);
        } else {
            int m = (int) c.num("M");
            FeatureMap map = FeatureKind.of(c.str("kernel")).map((float) c.num("eps"));
            Npy.Array w = c.array("w");
            assertArrayEquals(new int[]{m, d}, w.shape(), "w shape");
            FavorAttention fa = new FavorAttention(kern, map, w.toFloats(), m, d, causal);
            mf = fa.features();
            double tolPhi = 16 * U * (Math.sqrt(d) + 1);
            double eq = relErr(fa.features(dims, q, true), c.array("phi_q"));
            double ek = relErr(fa.features(dims, k, false), c.array("phi_k"));
            assertTrue(eq <= tolPhi, name + " phi_q rel err " + eq + " > " + tolPhi);
            assertTrue(ek <= tolPhi, name + " phi_k rel err " + ek + " > " + tolPhi);
            att = fa;
        }
        double red = Math.sqrt(d) + Math.sqrt(l) + Math.sqrt(Math.max(mf, 1));
        double tolOut = 8 * U * red, tolGrad = 16 * U * red;
        float[] out = new float[dims.qSize()];
        Attention.Saved saved = att.forward(dims, q, k, v, mask, out);
        double eo = relErr(out, c.array("out"));
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        att.backward(saved, c.array("dout").toFloats(), dq, dk, dv);
        double edq = relErr(dq, c.array("dq")), edk = relErr(dk, c.array("dk")), edv = relErr(dv, c.array("dv"));
        assertTrue(eo <= tolOut, name + " out rel err " + eo + " > " + tolOut);
        assertTrue(edq <= tolGrad, name + " dq rel err " + edq + " > " + tolGrad);
        assertTrue(edk <= tolGrad, name + " dk rel err " + edk + " > " + tolGrad);
        assertTrue(edv <= tolGrad, name + " dv rel err " + edv + " > " + tolGrad);
    }

    @Test
    void everyGoldenCaseIsCovered() {
        // the parameterized test runs on whatever is in the folder; make sure it is all there
        assertEquals(12, Golden.cases().size(), "golden cases: " + Golden.cases());
    }
}
