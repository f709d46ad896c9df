package dev.performer.bench;

import java.util.SplittableRandom;

/** Seeded benchmark inputs: the same seed gives the same array on every run. */
final class Inputs {

    private Inputs() {}

    /** n standard Gaussian floats. */
    static float[] gaussian(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rng.nextGaussian();
        return x;
    }

    /** n floats uniform in [lo, hi). */
    static float[] uniform(int n, float lo, float hi, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rng.nextDouble(lo, hi);
        return x;
    }
}
