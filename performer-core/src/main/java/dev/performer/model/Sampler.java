package dev.performer.model;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws the next token from a probability vector: temperature, then top-k, then top-p (nucleus)
 * truncation. Validates itself.
 *
 * <p>With temperature τ the weights are p_i^(1/τ); top-k keeps the k largest (0 = all); top-p keeps
 * the smallest set of largest weights whose share reaches p (1 = all); the draw is proportional
 * to the kept weights. Ties are broken by token id, so a seed gives the same draw everywhere.
 *
 * @param temperature τ &gt; 0 (1 = the model's distribution; → 0 approaches greedy)
 * @param topK        k ≥ 0 (0 = no limit)
 * @param topP        p in (0, 1]
 */
public record Sampler(double temperature, int topK, double topP) {

    public Sampler {
        if (!(temperature > 0) || Double.isInfinite(temperature))
            throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
    }

    /** Plain sampling from the model's distribution. */
    public static Sampler plain() { return new Sampler(1, 0, 1); }

    /** A token id drawn from p (V probabilities). */
    public int sample(float[] p, SplittableRandom r) {
        int v = p.length;
        double[] w = new double[v];
        double top = 0;
        for (float x : p) top = Math.max(top, x);
        if (!(top > 0)) throw new IllegalArgumentException("no token has a positive probability");
        // relative to the largest: (p_i / p_max)^(1/τ) ≤ 1 and the largest is 1, so no τ underflows them all
        double logTop = Math.log(top);
        for (int i = 0; i < v; i++) w[i] = p[i] <= 0 ? 0 : Math.exp((Math.log(p[i]) - logTop) / temperature);
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> w[y] != w[x] ? Double.compare(w[y], w[x]) : Integer.compare(x, y));
        double total = 0;
        for (double x : w) total += x;
        int keep = topK > 0 ? Math.min(topK, v) : v;
        double cum = 0;
        for (int i = 0; i < keep; i++) {
            cum += w[order[i]] / total;
            if (cum >= topP) { keep = i + 1; break; }
        }
        double z = 0;
        for (int i = 0; i < keep; i++) z += w[order[i]];
        double u = r.nextDouble() * z;
        for (int i = 0; i < keep; i++) {
            u -= w[order[i]];
            if (u <= 0) return order[i];
        }
        return order[keep - 1];
    }
}
