package dev.performer.train;

/**
 * When and how much a training run evaluates.
 *
 * @param every   validation period in steps (0 = only at the end)
 * @param batches validation batches per evaluation (0 = the whole validation set)
 */
public record Evaluation(int every, int batches) {
    public Evaluation {
        if (every < 0) throw new IllegalArgumentException("evaluation period must be >= 0, got " + every);
        if (batches < 0) throw new IllegalArgumentException("evaluation batches must be >= 0, got " + batches);
    }
}
