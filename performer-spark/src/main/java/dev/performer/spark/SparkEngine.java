package dev.performer.spark;

import dev.performer.data.SequenceData;
import dev.performer.io.RecordMetadata;
import dev.performer.model.PerformerModel;
import dev.performer.random.Seeds;
import dev.performer.train.AdamW;
import dev.performer.train.TrainConfig;
import dev.performer.train.Trainer;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * Data-parallel training on Spark, as a {@link Trainer.Engine}: the driver holds the parameters
 * and the optimizer; each step, S tasks (one per shard) compute the gradients of disjoint rows of
 * the step's global batch, the batch the single-machine trainer draws from (seed, step), Spark
 * sums them with {@code treeReduce}, and the driver applies clipping, the schedule and AdamW
 * through {@link Trainer#update}, exactly as the single-machine trainer does. Shard s of S takes
 * rows [s·B/S, (s+1)·B/S), with that batch's dropout masks, and inside its task
 * {@link #accumulate(int) accumulates} A micro-batches of B/(S·A) rows; the sum of
 * (gradient × targets) over shards divided by the global target count is the gradient of the
 * whole batch's mean loss. Partial sums are kept in double: the sum of S float terms is then
 * exact unless two terms are 2^29 apart, so the result does not depend on the order in which
 * tasks finish, and a task Spark re-runs after a failure gives the same bits.
 * <p>
 * {@link #localSteps(int) Local SGD} (K &gt; 1): each task runs K steps on its own shard from the
 * broadcast parameters and AdamW moments, with its own clipping; the driver then averages the
 * parameters and the moments. One synchronisation per K steps instead of one per step, at the
 * price of shards drifting apart for K steps (not equal to single-machine training).
 * <p>
 * The model state is broadcast each step (or round) and the training records once per run.
 * Every step is a function of (parameters, seed, step, shard): Spark may re-run any task.
 */
public final class SparkEngine implements Trainer.Engine {

    private final JavaSparkContext sc;
    private final int shards;
    private int accumulate = 1, localSteps = 1, depth = 2;
    private int[] fault;   // test hook: {step, shard} whose first attempt fails
    private Broadcast<Corpus> corpus;
    private SequenceData corpusOf;
    private double lastWall, lastCompute;

    /** An engine over the context's executors, with S shards (tasks) per step. */
    public SparkEngine(JavaSparkContext sc, int shards) {
        if (shards < 1) throw new IllegalArgumentException("shards must be >= 1, got " + shards);
        this.sc = sc;
        this.shards = shards;
    }

    /** Micro-batches per task (default 1): B/(S·A) rows per forward; the global batch stays B. */
    public SparkEngine accumulate(int a) {
        if (a < 1) throw new IllegalArgumentException("accumulate must be >= 1, got " + a);
        this.accumulate = a;
        return this;
    }

    /** Local SGD: steps each task takes between averagings (default 1: synchronous data parallelism). */
    public SparkEngine localSteps(int k) {
        if (k < 1) throw new IllegalArgumentException("local steps must be >= 1, got " + k);
        this.localSteps = k;
        return this;
    }

    /** Depth of the tree reduction (default 2). */
    public SparkEngine treeDepth(int d) {
        if (d < 1) throw new IllegalArgumentException("tree depth must be >= 1, got " + d);
        this.depth = d;
        return this;
    }

    /** For fault-tolerance tests: the first attempt of the task of (step 0-based, shard) throws. */
    public SparkEngine failFirstAttempt(int step, int shard) {
        this.fault = new int[]{step, shard};
        return this;
    }

    private static final java.util.concurrent.atomic.AtomicLong INJECTED = new java.util.concurrent.atomic.AtomicLong();

    /** Failures injected by {@link #failFirstAttempt} in this JVM so far (tests on a local master read it). */
    public static long injectedFailures() { return INJECTED.get(); }

    /** Wall seconds of the last call to advance, on the driver (broadcast, tasks, reduction, update). */
    public double lastWallSeconds() { return lastWall; }

    /** The longest task's compute seconds in the last call (forward, backward, local updates). */
    public double lastComputeSeconds() { return lastCompute; }

    @Override public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("spark.shards", String.valueOf(shards));
        m.put("spark.accumulate", String.valueOf(accumulate));
        m.put("spark.local_steps", String.valueOf(localSteps));
        return m;
    }

    @Override
    public List<Trainer.StepResult> advance(PerformerModel model, AdamW opt, TrainConfig tc, SequenceData train,
                                            int step, int max) {
        int b = tc.batching().size();
        if (b % (shards * accumulate) != 0)
            throw new IllegalArgumentException("the batch " + b + " must split into " + shards + " shards x "
                    + accumulate + " micro-batches");
        if (corpusOf != train) {
            if (corpus != null) corpus.destroy();
            corpus = sc.broadcast(Corpus.of(train));
            corpusOf = train;
        }
        long t0 = System.nanoTime();
        List<Trainer.StepResult> out = localSteps > 1 ? round(model, opt, tc, step, Math.min(localSteps, max))
                : List.of(synchronous(model, opt, tc, step));
        lastWall = (System.nanoTime() - t0) / 1e9;
        return out;
    }

    private LinkedHashMap<String, String> trainMetadata(TrainConfig tc) {
        LinkedHashMap<String, String> m = new LinkedHashMap<>();
        RecordMetadata.write("train", tc, m);
        return m;
    }

    private List<Integer> shardIds() { return IntStream.range(0, shards).boxed().toList(); }

    private Trainer.StepResult synchronous(PerformerModel model, AdamW opt, TrainConfig tc, int step) {
        long t0 = System.nanoTime();
        Trainer.redrawIfDue(model, tc, step);
        Broadcast<ModelState> state = sc.broadcast(ModelState.of(model));
        Part sum;
        try {
            Step job = new Step(state, null, corpus, trainMetadata(tc), step, 1, shards, accumulate, fault);
            sum = sc.parallelize(shardIds(), shards).map(job).treeReduce(Part::add, depth);
        } finally {
            state.destroy();
        }
        lastCompute = sum.seconds;
        float[] g = model.grads();
        double count = sum.counts[0];
        for (int i = 0; i < g.length; i++) g[i] = count == 0 ? 0f : (float) (sum.values[i] / count);
        float loss = count == 0 ? 0f : (float) (sum.loss[0] / count);
        double norm = Trainer.update(model, opt, tc, step, loss);
        double sec = (System.nanoTime() - t0) / 1e9;
        return new Trainer.StepResult(loss, count == 0 ? 0 : sum.correct[0] / count, tc.learningRate(step),
                norm, tc.batching().size() * tc.batching().length() / sec);
    }

    private List<Trainer.StepResult> round(PerformerModel model, AdamW opt, TrainConfig tc, int step, int k) {
        long t0 = System.nanoTime();
        Trainer.redrawIfDue(model, tc, step);
        Broadcast<ModelState> state = sc.broadcast(ModelState.of(model));
        Broadcast<Moments> moments = sc.broadcast(Moments.of(opt));
        Part sum;
        try {
            Step job = new Step(state, moments, corpus, trainMetadata(tc), step, k, shards, accumulate, fault);
            sum = sc.parallelize(shardIds(), shards).map(job).treeReduce(Part::add, depth);
        } finally {
            state.destroy();
            moments.destroy();
        }
        lastCompute = sum.seconds;
        int p = model.params().length;
        float[] params = model.params(), m = opt.firstMoment(), v = opt.secondMoment();
        for (int i = 0; i < p; i++) {
            params[i] = (float) (sum.values[i] / shards);
            m[i] = (float) (sum.values[p + i] / shards);
            v[i] = (float) (sum.values[2 * p + i] / shards);
        }
        opt.steps(opt.steps() + k);
        for (int j = 1; j < k; j++) Trainer.redrawIfDue(model, tc, step + j);   // as every shard did
        double sec = (System.nanoTime() - t0) / 1e9, tps = (double) k * tc.batching().size()
                * tc.batching().length() / sec;
        List<Trainer.StepResult> out = new ArrayList<>();
        for (int j = 0; j < k; j++)
            out.add(new Trainer.StepResult((float) (sum.loss[j] / Math.max(1, sum.counts[j])),
                    sum.counts[j] == 0 ? 0 : sum.correct[j] / sum.counts[j], tc.learningRate(step + j),
                    sum.norm[j] / shards, tps));
        return out;
    }

    /** AdamW's moments and update count, for local SGD's tasks. */
    record Moments(float[] m, float[] v, long t, LinkedHashMap<String, String> config) implements Serializable {
        static Moments of(AdamW opt) {
            LinkedHashMap<String, String> c = new LinkedHashMap<>();
            RecordMetadata.write("optim", opt.config(), c);
            return new Moments(opt.firstMoment().clone(), opt.secondMoment().clone(), opt.steps(), c);
        }

        AdamW restore(PerformerModel model) {
            try {
                AdamW a = new AdamW(model.layout(), RecordMetadata.read("optim", AdamW.Config.class, config, "driver"));
                System.arraycopy(m, 0, a.firstMoment(), 0, m.length);
                System.arraycopy(v, 0, a.secondMoment(), 0, v.length);
                a.steps(t);
                return a;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * What the tasks return and Spark sums: synchronous steps, Σ (gradient × targets) over the
     * micro-batches; local SGD, the parameters and moments after the round (P, P, P); per step,
     * Σ loss × targets, targets, correct and the gradient norm; the longest task's seconds.
     */
    static final class Part implements Serializable {
        private static final long serialVersionUID = 1L;
        final double[] values, loss, correct, norm;
        final double[] counts;
        double seconds;

        Part(double[] values, int steps) {
            this.values = values;
            this.loss = new double[steps];
            this.correct = new double[steps];
            this.norm = new double[steps];
            this.counts = new double[steps];
        }

        static Part add(Part a, Part b) {
            for (int i = 0; i < a.values.length; i++) a.values[i] += b.values[i];
            for (int j = 0; j < a.loss.length; j++) {
                a.loss[j] += b.loss[j];
                a.correct[j] += b.correct[j];
                a.norm[j] += b.norm[j];
                a.counts[j] += b.counts[j];
            }
            a.seconds = Math.max(a.seconds, b.seconds);
            return a;
        }
    }

    /** The task of one shard: its rows of k steps from step (k = 1: gradients only). */
    private record Step(Broadcast<ModelState> state, Broadcast<Moments> moments, Broadcast<Corpus> corpus,
                        LinkedHashMap<String, String> train, int step, int k, int shards, int accumulate, int[] fault)
            implements Function<Integer, Part>, Serializable {

        @Override public Part call(Integer shard) throws IOException {
            TaskContext ctx = TaskContext.get();
            if (fault != null && fault[1] == shard && fault[0] >= step && fault[0] < step + k && ctx != null
                    && ctx.attemptNumber() == 0) {
                INJECTED.incrementAndGet();
                throw new IllegalStateException("injected failure: step " + (fault[0] + 1) + ", shard " + shard
                        + ", attempt " + ctx.attemptNumber());
            }
            long t0 = System.nanoTime();
            TrainConfig tc = RecordMetadata.read("train", TrainConfig.class, train, "the driver's training config");
            SequenceData data = Corpus.on(corpus);
            try (ExecutorModels.Lease lease = ExecutorModels.borrow(state.value(), state.id())) {
                PerformerModel model = lease.model;
                int p = model.params().length;
                Part part;
                if (moments == null) {
                    part = new Part(new double[p], 1);
                    gradients(model, tc, data, step, shard, part, 0);
                } else {
                    lease.dirty();
                    AdamW opt = moments.value().restore(model);
                    double[] acc = new double[p];
                    part = new Part(new double[3 * p], k);
                    for (int j = 0; j < k; j++) {
                        Trainer.redrawIfDue(model, tc, step + j);
                        java.util.Arrays.fill(acc, 0);
                        Part g = new Part(acc, 1);
                        gradients(model, tc, data, step + j, shard, g, 0);
                        float[] grads = model.grads();
                        for (int i = 0; i < p; i++) grads[i] = g.counts[0] == 0 ? 0f : (float) (acc[i] / g.counts[0]);
                        float loss = g.counts[0] == 0 ? 0f : (float) (g.loss[0] / g.counts[0]);
                        part.norm[j] = Trainer.update(model, opt, tc, step + j, loss);
                        part.loss[j] = g.loss[0];
                        part.counts[j] = g.counts[0];
                        part.correct[j] = g.correct[0];
                    }
                    float[] w = model.params(), m = opt.firstMoment(), v = opt.secondMoment();
                    for (int i = 0; i < p; i++) {
                        part.values[i] = w[i];
                        part.values[p + i] = m[i];
                        part.values[2 * p + i] = v[i];
                    }
                }
                part.seconds = (System.nanoTime() - t0) / 1e9;
                return part;
            }
        }

        /** Σ (gradient × targets) of the shard's rows of a step into part.values, A micro-batches. */
        private void gradients(PerformerModel model, TrainConfig tc, SequenceData data, int s, int shard, Part part,
                               int j) {
            SequenceData.Batch whole;
            synchronized (data) {
                whole = Trainer.batch(model, tc, data, s, null);
            }
            int per = tc.batching().size() / shards, micro = per / accumulate, l = tc.batching().length();
            float[] grads = model.grads();
            for (int a = 0; a < accumulate; a++) {
                int from = shard * per + a * micro;
                SequenceData.Batch x = whole.rows(from, from + micro);
                model.zeroGrad();
                float loss = model.forward(x.tokens(), x.targets(), micro, l, x.keyMask(), true,
                        Seeds.dropout(tc.seed(), s), from);
                int n = model.counted();
                part.correct[j] += model.correct();
                model.backward();
                for (int i = 0; i < grads.length; i++) part.values[i] += (double) grads[i] * n;
                part.loss[j] += (double) loss * n;
                part.counts[j] += n;
            }
        }
    }
}
