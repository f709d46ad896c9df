package dev.performer.train;

import dev.performer.attention.AttentionSpec;
import dev.performer.data.SequenceData;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.random.Seeds;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The training loop. Per step: the FAVOR+ redraw when due (the model's attention specification
 * says how often), a batch from (seed, step), forward with dropout seeded from (seed, step),
 * backward, clipping by global norm, AdamW with the scheduled learning rate; evaluation and
 * checkpoints at their periods and at the end. Everything random derives from (seed, step)
 * ({@link Seeds}), so the same seed and thread count give the same losses bit for bit, and a
 * resumed run continues exactly. Every step and evaluation is appended to the run's
 * {@link TrainingLog}.
 * <pre>{@code
 * new Trainer(model, TrainConfig.builder().steps(1000).build(), train, valid, runDir).run();
 * }</pre>
 */
public final class Trainer {

    /** Progress callbacks (for a progress bar); each does nothing unless overridden. */
    public interface Listener {
        default void step(int step, float loss, double accuracy, float lr, double gradNorm, double tokensPerSecond) {}
        default void evaluated(int step, Metrics m) {}
        default void saved(int step, Path file) {}
    }

    private final PerformerModel model;
    private final TrainConfig tc;
    private final SequenceData train, valid;
    private final Path runDir;
    private AdamW opt;
    private Map<String, String> extraMeta = Map.of();
    private boolean evaluateFirst;
    private Engine engine = local();
    private RunFolder held;   // a folder the caller already holds, or null: run() opens and locks runDir itself

    /** Training stopped because the loss or the gradient norm of a step was not finite; nothing of it was applied. */
    public static final class Diverged extends RuntimeException {
        private final int step;
        Diverged(int step, String message) { super(message); this.step = step; }
        /** The step (1-based, as logged) that diverged. */
        public int step() { return step; }
    }

    /**
     * A trainer of a model on training data, evaluating on valid (null or empty: no evaluation),
     * writing its log and checkpoints to runDir. The optimizer starts fresh unless
     * {@link #optimizer(AdamW)} gives one (a resumed run's).
     */
    public Trainer(PerformerModel model, TrainConfig tc, SequenceData train, SequenceData valid, Path runDir) {
        int l = tc.batching().length(), max = model.config().maxLen();
        if (l > max) throw new IllegalArgumentException("training L " + l + " exceeds the model's maxLen " + max);
        checkKind(model, train);
        if (valid != null) checkKind(model, valid);
        if (train.size() == 0) throw new IllegalArgumentException("no training sequences");
        this.model = model;
        this.tc = tc;
        this.train = train;
        this.valid = valid != null && valid.size() > 0 ? valid : null;
        this.runDir = runDir;
        this.opt = new AdamW(model.layout(), tc.optimizer());
    }

    /** Continues with this optimizer state (a checkpoint's) instead of a fresh one. */
    public Trainer optimizer(AdamW state) { this.opt = state; return this; }

    /** Extra metadata written into every checkpoint (for example a description of the data). */
    public Trainer metadata(Map<String, String> extra) { this.extraMeta = Map.copyOf(extra); return this; }

    /**
     * Also validates before the first step of a fresh run (logged as step 0): the starting point of
     * a model initialized from another one's weights.
     */
    public Trainer evaluateFirst(boolean on) { this.evaluateFirst = on; return this; }

    /** Writes into a run folder the caller holds already (opened on runDir), instead of opening and locking it. */
    public Trainer folder(RunFolder rf) {
        if (!rf.path().equals(runDir)) throw new IllegalArgumentException(rf.path() + " is not " + runDir);
        this.held = rf;
        return this;
    }

    /** Runs every step, quietly. */
    public void run() throws IOException { run(0, new Listener() {}); }

    /** Runs steps [startStep, steps). */
    public void run(int startStep, Listener listener) throws IOException {
        if (held != null) {
            steps(startStep, listener);
            return;
        }
        try (RunFolder rf = RunFolder.open(runDir)) {
            steps(startStep, listener);
        }
    }

    /** What one training step did, as logged. */
    public record StepResult(float loss, double accuracy, float lr, double gradNorm, double tokensPerSecond) {}

    /**
     * How steps are computed: this JVM's forward and backward ({@link #local()}), or an engine that
     * spreads a step over machines (the performer-spark module's). An engine advances the model
     * (and the optimizer) by one or more steps from {@code step} (0-based), never more than
     * {@code max}, and returns what each step did; the trainer logs, validates and checkpoints
     * between calls, so evaluation and checkpoint periods are honoured whatever the engine.
     */
    public interface Engine {
        List<StepResult> advance(PerformerModel model, AdamW opt, TrainConfig tc, SequenceData train, int step,
                                 int max);

        /** Run-specific metadata for the checkpoints (the engine's settings); none by default. */
        default Map<String, String> metadata() { return Map.of(); }
    }

    /**
     * One step at a time, in this JVM: redraw when due, the batch of (seed, step), forward,
     * backward, update. A new engine per trainer (it reuses its batch buffer from step to step).
     */
    public static Engine local() { return new Local(); }

    private static final class Local implements Engine {
        private SequenceData.Batch bt;

        @Override
        public List<StepResult> advance(PerformerModel model, AdamW opt, TrainConfig tc, SequenceData train,
                                        int step, int max) {
            int b = tc.batching().size(), l = tc.batching().length();
            redrawIfDue(model, tc, step);
            SequenceData.Batch x = batch(model, tc, train, step, bt);
            bt = x;
            long t0 = System.nanoTime();
            model.zeroGrad();
            float loss = model.forward(x.tokens(), x.targets(), b, l, x.keyMask(), true,
                    Seeds.dropout(tc.seed(), step));
            double acc = model.counted() == 0 ? 0 : (double) model.correct() / model.counted();
            model.backward();
            double norm = update(model, opt, tc, step, loss);
            double sec = (System.nanoTime() - t0) / 1e9;
            return List.of(new StepResult(loss, acc, tc.learningRate(step), norm, b * l / sec));
        }
    }

    /** Computes the steps with this engine instead of {@link #local()}. */
    public Trainer engine(Engine e) {
        if (e == null) throw new IllegalArgumentException("engine must be given");
        this.engine = e;
        return this;
    }

    private void steps(int startStep, Listener listener) throws IOException {
        TrainingLog log = TrainingLog.open(runDir, startStep);
        long t00 = System.nanoTime();
        Map<String, String> meta = new java.util.LinkedHashMap<>(engine.metadata());
        meta.putAll(extraMeta);
        if (evaluateFirst && startStep == 0 && valid != null) validate(0, log, t00, listener);
        int evalEvery = tc.evaluation().every(), ckEvery = tc.checkpointEvery();
        for (int step = startStep; step < tc.steps(); ) {
            int next = tc.steps();   // the engine stops at the next evaluation or checkpoint
            if (valid != null && evalEvery > 0) next = Math.min(next, (step / evalEvery + 1) * evalEvery);
            if (ckEvery > 0) next = Math.min(next, (step / ckEvery + 1) * ckEvery);
            List<StepResult> done = engine.advance(model, opt, tc, train, step, next - step);
            if (done.isEmpty() || done.size() > next - step)
                throw new IllegalStateException("engine advanced " + done.size() + " steps, expected 1.."
                        + (next - step));
            for (StepResult r : done) {
                step++;
                log.append(new TrainingLog.Row(step, "train", r.loss(), r.accuracy(), Math.exp(r.loss()), r.lr(),
                        r.gradNorm(), r.tokensPerSecond(), elapsed(t00)));
                listener.step(step, r.loss(), r.accuracy(), r.lr(), r.gradNorm(), r.tokensPerSecond());
            }
            boolean last = step == tc.steps();
            if (valid != null && (last || (evalEvery > 0 && step % evalEvery == 0)))
                validate(step, log, t00, listener);
            if (last || (ckEvery > 0 && step % ckEvery == 0)) {
                Path f = Checkpoint.file(runDir, step);
                Checkpoint.save(f, model, opt, step, tc, meta);
                listener.saved(step, f);
            }
        }
    }

    /**
     * The update of a step (0-based) from the gradients in {@code model.grads()}: clipping by global
     * norm, the divergence check (before anything is applied: no NaN reaches the weights), AdamW
     * with the scheduled learning rate. Returns the gradient norm before clipping. Every trainer
     * (this one, a data-parallel one that summed its gradients elsewhere) updates through here.
     */
    public static double update(PerformerModel model, AdamW opt, TrainConfig tc, int step, float loss) {
        double norm = clip(model.grads(), tc.clip());
        if (!Float.isFinite(loss) || !Double.isFinite(norm))
            throw new Diverged(step + 1, "training diverged at step " + (step + 1) + ": loss " + loss
                    + ", gradient norm " + norm + "; the step was not applied");
        opt.step(model.params(), model.grads(), tc.learningRate(step));
        return norm;
    }

    /** The FAVOR+ redraw before a step (0-based), when the model's attention asks for one then. */
    public static void redrawIfDue(PerformerModel model, TrainConfig tc, int step) {
        int every = model.config().attention() instanceof AttentionSpec.Favor f ? f.redrawEvery() : 0;
        if (every > 0 && step > 0 && step % every == 0) model.redrawFeatures(Seeds.redraw(tc.seed(), step));
    }

    /**
     * The training batch of a step (0-based), as the trainer draws it: from (seed, step), masked for
     * bidirectional models. A data-parallel trainer cuts it into shards with
     * {@link SequenceData.Batch#rows}.
     */
    public static SequenceData.Batch batch(PerformerModel model, TrainConfig tc, SequenceData train, int step,
                                           SequenceData.Batch into) {
        return train.sample(tc.batching().size(), tc.batching().length(), tc.batching().layout(),
                !model.config().causal(), tc.seed(), step, into);
    }

    /** Validation after `step` steps: logged and reported. */
    private void validate(int step, TrainingLog log, long t00, Listener listener) throws IOException {
        Metrics m = evaluate(model, valid, tc.batching(), tc.evaluation().batches());
        log.append(new TrainingLog.Row(step, "valid", m.loss(), m.accuracy(), m.perplexity(), Double.NaN, Double.NaN,
                Double.NaN, elapsed(t00)));
        listener.evaluated(step, m);
    }

    private static double elapsed(long t00) { return (System.nanoTime() - t00) / 1e9; }

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

    /** The data must be of the model's kind and its tokens within the model's vocabulary. */
    public static void checkKind(PerformerModel model, SequenceData data) {
        ModelConfig c = model.config();
        if (data.tokenizer() != c.tokenizer())
            throw new IllegalArgumentException(data.tokenizer().id() + " data for " + c.tokenizer().aModel());
        if (c.vocab() < c.tokenizer().vocabSize())
            throw new IllegalArgumentException("the model's vocab " + c.vocab() + " is smaller than the "
                    + c.tokenizer().id() + " vocabulary of " + c.tokenizer().vocabSize());
    }

    /**
     * Loss, accuracy and perplexity of a model on data with the training objective of its direction
     * (masked positions drawn with {@link Seeds#EVALUATION}), on at most maxBatches batches (0 = all).
     */
    public static Metrics evaluate(PerformerModel model, SequenceData data, Batching batching, int maxBatches) {
        checkKind(model, data);
        if (batching.length() > model.config().maxLen())
            throw new IllegalArgumentException("L " + batching.length() + " exceeds the model's maxLen "
                    + model.config().maxLen());
        boolean masked = !model.config().causal();
        double lossSum = 0;
        long correct = 0, count = 0;
        int n = 0;
        for (SequenceData.Batch bt : data.evaluationBatches(batching.size(), batching.length(), batching.layout(),
                masked, Seeds.EVALUATION)) {
            if (maxBatches > 0 && n++ >= maxBatches) break;
            float loss = model.forward(bt.tokens(), bt.targets(), bt.batch(), bt.length(), bt.keyMask(), false, 0);
            lossSum += (double) loss * model.counted();
            correct += model.correct();
            count += model.counted();
        }
        double loss = count == 0 ? Double.NaN : lossSum / count;
        return new Metrics(loss, count == 0 ? Double.NaN : (double) correct / count, Math.exp(loss), count);
    }
}
