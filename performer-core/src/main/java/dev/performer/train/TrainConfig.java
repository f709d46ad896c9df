package dev.performer.train;

import dev.performer.data.ProteinData;

/**
 * How to train. Validates itself.
 *
 * @param steps           optimizer steps in all
 * @param batch           sequences per step
 * @param length          L, tokens per sequence
 * @param lr              peak learning rate
 * @param warmup          linear warm-up steps, then cosine decay to lr·minLrFraction at the last step
 * @param redrawEvery     FAVOR+ feature redraw period in steps (0 = never)
 * @param evalEvery       validation period in steps (0 = only at the end)
 * @param checkpointEvery checkpoint period in steps (0 = only at the end)
 * @param beta1           AdamW first-moment decay, beta2 second-moment decay, eps its denominator guard
 * @param evalBatches     validation batches per evaluation (0 = the whole validation set)
 */
public record TrainConfig(int steps, int batch, int length, float lr, int warmup, float minLrFraction, float beta1, float beta2,
                          float eps, float weightDecay, float clip, int redrawEvery, int evalEvery, int checkpointEvery, long seed,
                          ProteinData.Layout layout, int evalBatches) {

    public TrainConfig {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (length < 3) throw new IllegalArgumentException("L must be >= 3, got " + length);
        if (!(lr > 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("lr must be > 0, got " + lr);
        if (warmup < 0) throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
        if (!(clip > 0)) throw new IllegalArgumentException("clip must be > 0, got " + clip);
        if (redrawEvery < 0 || evalEvery < 0 || checkpointEvery < 0) throw new IllegalArgumentException("periods must be >= 0");
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        if (!(eps > 0) || !Float.isFinite(eps)) throw new IllegalArgumentException("eps must be > 0, got " + eps);
        if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        if (!(minLrFraction >= 0 && minLrFraction <= 1)) throw new IllegalArgumentException("minLrFraction must be in [0, 1], got " + minLrFraction);
        if (evalBatches < 0) throw new IllegalArgumentException("evalBatches must be >= 0, got " + evalBatches);
    }

    /** Linear warm-up to lr, then cosine decay to lr·minLrFraction at the last step. */
    public float learningRate(int step) {
        if (step < warmup) return lr * (step + 1) / warmup;
        double p = steps <= warmup ? 1 : (double) (step - warmup) / Math.max(1, steps - warmup - 1);
        double min = lr * minLrFraction;
        return (float) (min + 0.5 * (lr - min) * (1 + Math.cos(Math.PI * Math.min(1, p))));
    }
}
