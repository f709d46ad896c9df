package dev.performer.model;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {

    static final float[] P = {0.05f, 0.4f, 0.1f, 0.3f, 0.15f};

    /** Empirical frequencies of n draws. */
    static double[] frequencies(Sampler s, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] f = new double[P.length];
        for (int i = 0; i < n; i++) f[s.sample(P, r)] += 1.0 / n;
        return f;
    }

    /** Each frequency within 5 binomial standard deviations of its expected value (a false alarm ~1e-6 per entry). */
    static void assertFrequencies(double[] want, double[] got, int n, String what) {
        for (int i = 0; i < want.length; i++) {
            double sd = Math.sqrt(want[i] * (1 - want[i]) / n);
            assertEquals(want[i], got[i], 5 * sd + 1e-12, what + " token " + i);
        }
    }

    @Test
    void temperatureOneDrawsFromTheModel() {
        int n = 200_000;
        double[] want = new double[P.length];
        for (int i = 0; i < P.length; i++) want[i] = P[i];
        assertFrequencies(want, frequencies(Sampler.plain(), n, 1), n, "plain");
    }

    @Test
    void temperatureSharpensAndTruncationRenormalizes() {
        int n = 200_000;
        // temperature 0.5: p² / Σ p²
        double z = 0;
        for (float p : P) z += p * p;
        double[] want = new double[P.length];
        for (int i = 0; i < P.length; i++) want[i] = P[i] * P[i] / z;
        assertFrequencies(want, frequencies(new Sampler(0.5, 0, 1), n, 2), n, "temperature 0.5");
        // top-k 2: tokens 1 and 3 only, in the ratio 0.4 : 0.3
        assertFrequencies(new double[]{0, 0.4 / 0.7, 0, 0.3 / 0.7, 0},
                frequencies(new Sampler(1, 2, 1), n, 3), n, "top-k 2");
        // top-p 0.8: 0.4 + 0.3 = 0.7 < 0.8, + 0.15 = 0.85 reaches it: tokens 1, 3, 4
        assertFrequencies(new double[]{0, 0.4 / 0.85, 0, 0.3 / 0.85, 0.15 / 0.85},
                frequencies(new Sampler(1, 0, 0.8), n, 4), n, "top-p 0.8");
    }

    @Test
    void greedyLimitsAndValidation() {
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 100; i++) {
            assertEquals(1, new Sampler(1, 1, 1).sample(P, r), "top-k 1 is greedy");
            assertEquals(1, new Sampler(1, 0, 0.01).sample(P, r), "a tiny top-p keeps only the most likely token");
        }
        assertThrows(IllegalArgumentException.class, () -> new Sampler(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, 0, 1.5));
    }
}
