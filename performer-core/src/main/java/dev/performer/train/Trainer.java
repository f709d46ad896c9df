package dev.performer.train;

import dev.performer.data.ProteinData;
import dev.performer.model.PerformerModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop. Per step: optional FAVOR+ redraw, a batch from (seed, step), forward with
 * dropout seeded from (seed, step), backward, clipping by global norm, AdamW with the scheduled
 * learning rate; evaluation and checkpoints at their periods and at the end. Everything random
 * is a function of (seed, step), so the same seed and thread count give the same losses bit for
 * bit, and a resumed run continues exactly. Every step and evaluation is appended to
 * {@code log.csv} in the run folder.
 */
public final class Trainer {

    /** Loss (mean cross-entropy per target), accuracy and perplexity over a number of targets. */
    public record Metrics(double loss, double accuracy, double perplexity, long targets) {}

    /** Progress callbacks (for a progress bar); each does nothing unless overridden. */
    public interface Listener {
        default void step(int step, float loss, double accuracy, float lr, double gradNorm, double tokensPerSecond) {}
        default void evaluated(int step, Metrics m) {}
        default void saved(int step, Path file) {}
    }

    public static final String LOG_HEADER = "step,split,loss,accuracy,perplexity,lr,grad_norm,tokens_per_s,elapsed_s";

    private final PerformerModel model;
    private final AdamW opt;
    private final TrainConfig tc;
    private final ProteinData train, valid;
    private final Path runDir;
    private final Map<String, String> extraMeta;

    public Trainer(PerformerModel model, AdamW opt, TrainConfig tc, ProteinData train, ProteinData valid, Path runDir, Map<String, String> extraMeta) {
        this.model = model; this.opt = opt; this.tc = tc; this.train = train; this.valid = valid; this.runDir = runDir; this.extraMeta = extraMeta;
    }

    /** Runs steps [startStep, tc.steps). */
    public void run(int startStep, Listener listener) throws IOException {
        Files.createDirectories(runDir);
        Path log = runDir.resolve("log.csv");
        prepareLog(log, startStep);
        boolean masked = !model.config().causal();
        int b = tc.batch(), l = tc.length();
        long t00 = System.nanoTime();
        ProteinData.Batch bt = null;
        for (int step = startStep; step < tc.steps(); step++) {
            if (tc.redrawEvery() > 0 && step > 0 && step % tc.redrawEvery() == 0) model.redrawFeatures(tc.seed() * 31 + step);
            bt = train.sample(b, l, tc.layout(), masked, tc.seed(), step, bt);
            long t0 = System.nanoTime();
            model.zeroGrad();
            float loss = model.forward(bt.tokens(), bt.targets(), b, l, bt.keyMask(), true, tc.seed() * 0x2545F4914F6CDD1DL + step);
            double acc = model.counted() == 0 ? 0 : (double) model.correct() / model.counted();
            model.backward();
            double norm = clip(model.grads(), tc.clip());
            float lr = tc.learningRate(step);
            opt.step(model.params(), model.grads(), lr, tc.beta1(), tc.beta2(), tc.eps(), tc.weightDecay());
            double sec = (System.nanoTime() - t0) / 1e9, tps = b * l / sec;
            if (!Float.isFinite(loss)) throw new IllegalStateException("loss is " + loss + " at step " + step + " (lower --lr?)");
            append(log, String.format(Locale.ROOT, "%d,train,%.6f,%.6f,%.4f,%.6g,%.4f,%.1f,%.2f", step + 1, loss, acc, Math.exp(loss), lr, norm, tps,
                    (System.nanoTime() - t00) / 1e9));
            listener.step(step + 1, loss, acc, lr, norm, tps);
            boolean last = step + 1 == tc.steps();
            if (valid != null && valid.size() > 0 && (last || (tc.evalEvery() > 0 && (step + 1) % tc.evalEvery() == 0))) {
                Metrics m = evaluate(model, valid, tc);
                append(log, String.format(Locale.ROOT, "%d,valid,%.6f,%.6f,%.4f,,,,%.2f", step + 1, m.loss(), m.accuracy(), m.perplexity(),
                        (System.nanoTime() - t00) / 1e9));
                listener.evaluated(step + 1, m);
            }
            if (last || (tc.checkpointEvery() > 0 && (step + 1) % tc.checkpointEvery() == 0)) {
                Path f = Checkpoint.file(runDir, step + 1);
                Checkpoint.save(f, model, opt, step + 1, extraMeta);
                listener.saved(step + 1, f);
            }
        }
    }

    /** Scales the gradients down to the clip norm when above it; returns the norm before clipping. */
    static double clip(float[] g, float clip) {
        double s = 0;
        for (float x : g) s += (double) x * x;
        double norm = Math.sqrt(s);
        if (norm > clip) {
            float f = (float) (clip / norm);
            for (int i = 0; i < g.length; i++) g[i] *= f;
        }
        return norm;
    }

    /** Loss, accuracy and perplexity of a model on data (the training objective of the model's direction). */
    public static Metrics evaluate(PerformerModel model, ProteinData data, TrainConfig tc) {
        boolean masked = !model.config().causal();
        double lossSum = 0;
        long correct = 0, count = 0;
        int n = 0;
        for (ProteinData.Batch bt : data.evaluationBatches(tc.batch(), tc.length(), tc.layout(), masked, 12345)) {
            if (tc.evalBatches() > 0 && n++ >= tc.evalBatches()) break;
            float loss = model.forward(bt.tokens(), bt.targets(), bt.batch(), bt.length(), bt.keyMask(), false, 0);
            lossSum += (double) loss * model.counted();
            correct += model.correct();
            count += model.counted();
        }
        double loss = count == 0 ? Double.NaN : lossSum / count;
        return new Metrics(loss, count == 0 ? Double.NaN : (double) correct / count, Math.exp(loss), count);
    }

    private static void prepareLog(Path log, int startStep) throws IOException {
        List<String> keep = new ArrayList<>();
        keep.add(LOG_HEADER);
        if (startStep > 0 && Files.exists(log)) {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (line.startsWith("step")) continue;
                int comma = line.indexOf(',');
                if (comma > 0 && Integer.parseInt(line.substring(0, comma)) <= startStep) keep.add(line);
            }
        }
        Files.write(log, keep, StandardCharsets.UTF_8);
    }

    private static void append(Path log, String line) throws IOException {
        Files.writeString(log, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }
}
