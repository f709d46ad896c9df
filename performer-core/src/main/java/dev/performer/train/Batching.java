package dev.performer.train;

import dev.performer.data.SequenceData;

/**
 * The shape of the batches a model trains or is evaluated on.
 *
 * @param size   B, sequences per batch
 * @param length L, tokens per sequence (at most the model's maxLen)
 * @param layout one record per row (padded) or all records joined and cut into windows of L
 */
public record Batching(int size, int length, SequenceData.Layout layout) {
    public Batching {
        if (size < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + size);
        if (length < 3) throw new IllegalArgumentException("L must be >= 3, got " + length);
        if ((long) size * length > Integer.MAX_VALUE / 4)
            throw new IllegalArgumentException("batch " + size + " x L " + length + " tokens is too large");
        if (layout == null) throw new IllegalArgumentException("layout must be given");
    }
}
