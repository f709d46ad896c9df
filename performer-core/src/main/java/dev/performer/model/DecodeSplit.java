package dev.performer.model;

/**
 * How a {@link PerformerModel.BatchDecoder} spreads one decoding step of N sequences over the
 * backend's T threads. Both give the same outputs (see {@link PerformerModel.BatchDecoder}); they
 * differ in speed.
 */
public enum DecodeSplit {
    /**
     * {@link #HEADS} when there are fewer sequences than threads (one sequence on two cores), else
     * {@link #ROWS}: measured on the Table 2 model (2 x 128, 4 heads, M 256) with 2 threads, heads
     * gave 37k tokens/s for one sequence against 32-33k by rows, but rows led from 2 sequences on
     * (2: 53-56k against 47-51k; 8: 76k against 55k).
     */
    AUTO,
    /**
     * The N rows in min(T, N) groups of consecutive rows, each taken through the whole step on its
     * own thread: one fork and join per step, but each core streams all the weights, and one
     * sequence runs on one core.
     */
    ROWS,
    /**
     * Every thread takes all N rows through its share of each layer: its heads (LayerNorm, their q,
     * k, v columns and their attention over its own part of each sequence's state), then its share of
     * the output columns of the projection and of both feed-forward maps, with a barrier after each of
     * the four per layer. Each core keeps its part of the states and of the weights in its own cache,
     * and one sequence uses every core.
     */
    HEADS
}
