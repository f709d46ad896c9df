package dev.performer.random;

/**
 * Every seed the library derives from a user's seed, in one place. Training is a function of
 * (seed, step): the batch, its masking, the dropout masks and the FAVOR+ redraws of step s each
 * come from their own derivation below, so a run resumed at step s draws what the uninterrupted
 * run drew. (The formulas are part of the checkpoints' meaning: changing one changes what a
 * resumed run does.)
 */
public final class Seeds {

    /** The masking seed of evaluation batches: the same targets for every model and every evaluation. */
    public static final long EVALUATION = 12345;

    private Seeds() {}

    /** The i-th of a sequence of draws from a seed: seed·31 + i. */
    public static long nth(long seed, long i) { return seed * 31 + i; }

    /** The draw (i, j) of a grid of draws from a seed: seed·1 000 003 + 7919·i + j. */
    public static long cell(long seed, long i, long j) { return seed * 1_000_003L + 7919L * i + j; }

    /** The FAVOR+ projection of a layer at initialization. */
    public static long projection(long seed, int layer) { return cell(seed, layer + 1, 0); }

    /** The base seed of the FAVOR+ redraw at a step (each layer's projection then derives from it). */
    public static long redraw(long seed, int step) { return nth(seed, step); }

    /** The batch (records, windows, masking) of a training step. */
    public static long batch(long seed, long step) { return seed * 0x9E3779B97F4A7C15L + step; }

    /** The dropout masks of a training step. */
    public static long dropout(long seed, int step) { return seed * 0x2545F4914F6CDD1DL + step; }

    /** The base of the dropout mask of one site (0: attention branch, 1: feed-forward branch) of a layer. */
    public static long dropoutSite(long seed, int layer, int site) {
        return mix(seed ^ mix(0x632BE59BD9B4E019L * (2L * layer + site + 1)));
    }

    /** The SplitMix64 finalizer: a bijective 64-bit mix. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
