package dev.performer.model;

import dev.performer.kernel.Kernels;
import dev.performer.random.Seeds;

/**
 * Inverted dropout at one site of one layer (site 0: the attention branch, 1: the feed-forward
 * branch), in place on N·C elements (N = B·T):
 * <pre>
 *   forward:  y[i] = x[i]·keep(i)/(1 − p)
 *   backward: dx[i] = dy[i]·keep(i)/(1 − p)      (the same mask, recomputed)
 * </pre>
 * keep(i) is a hash of (seed, layer, site, i) against 1 − p, so the mask is never stored: the
 * backward recomputes it from the seed of the forward.
 */
final class Dropout {

    /** Elements per parallel task (64K floats: 256 KB, well above task overhead). */
    private static final int CHUNK = 1 << 16;

    private final Kernels kern;
    private final float scale;
    private final long keepBelow;
    private final int layer, site;

    Dropout(Kernels kern, float p, int layer, int site) {
        this.kern = kern;
        this.scale = 1f / (1f - p);
        this.keepBelow = keepBelow(p);
        this.layer = layer;
        this.site = site;
    }

    /**
     * x (n) ·= keep/(1 − p) in place, with the mask of seed; x[0] is element {@code first} of the
     * whole batch's mask (0 unless these rows are a shard of a larger batch: the shard then gets
     * the larger batch's mask of its rows).
     */
    void forward(float[] x, int n, long seed, long first) { apply(x, n, seed, first); }

    /** dx (n) ·= keep/(1 − p) in place: the forward's mask, recomputed from the same seed. */
    void backward(float[] dx, int n, long seed, long first) { apply(dx, n, seed, first); }

    private void apply(float[] x, int n, long seed, long first) {
        long base = dropoutBase(seed, layer, site), below = keepBelow;
        float s = scale;
        int tasks = (n + CHUNK - 1) / CHUNK;
        kern.parallelFor(tasks, task -> {
            int from = task * CHUNK, to = Math.min(n, from + CHUNK);
            for (int i = from; i < to; i++) x[i] = keeps(base, first + i, below) ? x[i] * s : 0f;
        });
    }

    /** Whether dropout keeps element i of (layer, site) under seed with rate p. */
    static boolean keeps(long seed, float p, int layer, int site, int i) {
        return keeps(dropoutBase(seed, layer, site), i, keepBelow(p));
    }

    /** Keep threshold against the hash's top 24 bits. */
    private static long keepBelow(float p) { return (long) Math.ceil((1.0 - p) * (1L << 24)); }

    private static long dropoutBase(long seed, int layer, int site) { return Seeds.dropoutSite(seed, layer, site); }

    private static boolean keeps(long base, long i, long keepBelow) {
        return (Seeds.mix(base + 0x9E3779B97F4A7C15L * i) >>> 40) < keepBelow;
    }
}
