package dev.performer.train;

/**
 * The learning-rate schedule: linear warm-up to the peak over {@code warmup} steps, then cosine
 * decay to peak·finalFraction at the last step.
 */
public record Schedule(int warmup, float finalFraction) {
    public Schedule {
        if (warmup < 0) throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
        if (!(finalFraction >= 0 && finalFraction <= 1))
            throw new IllegalArgumentException("final learning-rate fraction must be in [0, 1], got " + finalFraction);
    }

    /** The learning rate at a step (0-based) of a run of {@code steps} steps with the given peak. */
    public float learningRate(float peak, int step, int steps) {
        if (step < warmup) return peak * (step + 1) / warmup;
        double p = steps <= warmup ? 1 : (double) (step - warmup) / Math.max(1, steps - warmup - 1);
        double min = peak * finalFraction;
        return (float) (min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * Math.min(1, p))));
    }
}
