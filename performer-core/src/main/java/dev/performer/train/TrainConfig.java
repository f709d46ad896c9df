package dev.performer.train;

import dev.performer.data.SequenceData;

/**
 * How to train. Validates itself; {@link Trainer} checks it against the model (L ≤ maxLen).
 * Build it with {@link #builder()}: every value has the command line's default, and the periods
 * default from the number of steps.
 *
 * @param steps           optimizer steps in all
 * @param batching        batch size B, length L and layout of the training batches (evaluation too)
 * @param optimizer       AdamW's hyper-parameters, with the peak learning rate
 * @param schedule        warm-up and cosine decay of the learning rate
 * @param clip            gradients are scaled down to this global norm when above it
 * @param evaluation      validation period and size
 * @param checkpointEvery checkpoint period in steps (0 = only at the end)
 * @param seed            every random draw of training derives from it ({@link dev.performer.random.Seeds})
 */
public record TrainConfig(int steps, Batching batching, AdamW.Config optimizer, Schedule schedule, float clip,
                          Evaluation evaluation, int checkpointEvery, long seed) {

    public TrainConfig {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (batching == null || optimizer == null || schedule == null || evaluation == null)
            throw new IllegalArgumentException("batching, optimizer, schedule and evaluation must be given");
        if (!(clip > 0) || !Float.isFinite(clip)) throw new IllegalArgumentException("clip must be > 0, got " + clip);
        if (checkpointEvery < 0)
            throw new IllegalArgumentException("checkpoint period must be >= 0, got " + checkpointEvery);
    }

    /** The learning rate of a step (0-based): the schedule applied to the optimizer's peak. */
    public float learningRate(int step) { return schedule.learningRate(optimizer.lr(), step, steps); }

    /** A builder with the command line's defaults. */
    public static Builder builder() { return new Builder(); }

    /**
     * Defaults: 300 steps of 8 × 256 tokens in the pad layout, AdamW defaults, warm-up min(30,
     * steps/10) then cosine to 0.1·lr, clip 1, validation every steps/5 steps on 40 batches,
     * checkpoints every steps/2 steps, seed 0.
     */
    public static final class Builder {
        private int steps = 300, batch = 8, length = 256, evalBatches = 40;
        private Integer warmup, evalEvery, checkpointEvery;      // null: derived from steps
        private SequenceData.Layout layout = SequenceData.Layout.PAD;
        private AdamW.Config optimizer = AdamW.Config.defaults();
        private float finalLrFraction = 0.1f, clip = 1f;
        private long seed;

        private Builder() {}

        public Builder steps(int n) { steps = n; return this; }
        public Builder batch(int b) { batch = b; return this; }
        public Builder length(int l) { length = l; return this; }
        public Builder layout(SequenceData.Layout l) { layout = l; return this; }
        public Builder optimizer(AdamW.Config c) { optimizer = c; return this; }
        /** The peak learning rate (the optimizer's lr). */
        public Builder lr(float lr) { optimizer = optimizer.withLr(lr); return this; }
        public Builder warmup(int n) { warmup = n; return this; }
        public Builder finalLrFraction(float f) { finalLrFraction = f; return this; }
        public Builder clip(float c) { clip = c; return this; }
        public Builder evalEvery(int n) { evalEvery = n; return this; }
        public Builder evalBatches(int n) { evalBatches = n; return this; }
        public Builder checkpointEvery(int n) { checkpointEvery = n; return this; }
        public Builder seed(long s) { seed = s; return this; }

        public TrainConfig build() {
            int w = warmup != null ? warmup : Math.min(30, steps / 10);
            int ev = evalEvery != null ? evalEvery : Math.max(1, steps / 5);
            int ck = checkpointEvery != null ? checkpointEvery : Math.max(1, steps / 2);
            return new TrainConfig(steps, new Batching(batch, length, layout), optimizer,
                    new Schedule(w, finalLrFraction), clip, new Evaluation(ev, evalBatches), ck, seed);
        }
    }
}
