package dev.performer.attention;

import java.util.SplittableRandom;

/**
 * Random projections W (M×D, row-major float32) for FAVOR+ features, drawn from a seed.
 *
 * <ul>
 *   <li>{@link Type#IID}: every entry N(0, 1) (row lengths are then χ(D)-distributed).</li>
 *   <li>{@link Type#ORTHOGONAL}: ⌈M/D⌉ independent blocks, each the Gram-Schmidt orthonormal
 *       basis of a D×D Gaussian matrix (the last block truncated), so rows within a block are
 *       exactly orthogonal; rows are then scaled by independent χ(D) lengths ({@link Scaling#CHI},
 *       keeping each row's marginal N(0, I)) or by √D ({@link Scaling#SQRT_D}, the paper's SMREG).</li>
 * </ul>
 * The same (type, scaling, M, D, seed) gives the same matrix on every run.
 */
public final class Projection {

    public enum Type { IID, ORTHOGONAL }

    public enum Scaling { CHI, SQRT_D }

    private Projection() {}

    /** Draws W (M×D). */
    public static float[] draw(Type type, Scaling scaling, int m, int d, long seed) {
        if (m < 1 || d < 1)
            throw new IllegalArgumentException("projection needs M >= 1 and D >= 1, got M=" + m + " D=" + d);
        SplittableRandom rng = new SplittableRandom(seed);
        float[] w = new float[m * d];
        if (type == Type.IID) {
            for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
            return w;
        }
        double[] block = new double[d * d];
        for (int r0 = 0; r0 < m; r0 += d) {
            for (int i = 0; i < block.length; i++) block[i] = rng.nextGaussian();
            gramSchmidt(block, d);
            int rows = Math.min(d, m - r0);
            for (int r = 0; r < rows; r++) {
                double len = scaling == Scaling.SQRT_D ? Math.sqrt(d) : chi(rng, d);
                for (int c = 0; c < d; c++) w[(r0 + r) * d + c] = (float) (block[r * d + c] * len);
            }
        }
        return w;
    }

    /** Orthonormalizes the rows of a d×d matrix in place (modified Gram-Schmidt, twice for stability). */
    static void gramSchmidt(double[] a, int d) {
        for (int r = 0; r < d; r++) {
            for (int pass = 0; pass < 2; pass++) {
                for (int p = 0; p < r; p++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += a[r * d + c] * a[p * d + c];
                    for (int c = 0; c < d; c++) a[r * d + c] -= dot * a[p * d + c];
                }
            }
            double norm = 0;
            for (int c = 0; c < d; c++) norm += a[r * d + c] * a[r * d + c];
            norm = Math.sqrt(norm);
            if (norm < 1e-12) throw new IllegalStateException("degenerate Gaussian block (probability 0)");
            for (int c = 0; c < d; c++) a[r * d + c] /= norm;
        }
    }

    /** A χ(d)-distributed length: the norm of a d-dimensional standard Gaussian vector. */
    static double chi(SplittableRandom rng, int d) {
        double s = 0;
        for (int i = 0; i < d; i++) { double g = rng.nextGaussian(); s += g * g; }
        return Math.sqrt(s);
    }
}
