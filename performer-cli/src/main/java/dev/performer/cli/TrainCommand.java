package dev.performer.cli;

import dev.performer.attention.AttentionSpec;
import dev.performer.attention.Projection;
import dev.performer.data.FastaReader;
import dev.performer.data.ProteinData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.model.Direction;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.model.Positions;
import dev.performer.train.AdamW;
import dev.performer.train.Checkpoint;
import dev.performer.train.Metrics;
import dev.performer.train.TrainConfig;
import dev.performer.train.Trainer;
import dev.performer.train.TrainingLog;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** {@code performer train}: a Performer language model on protein sequences. */
final class TrainCommand {

    static final String HELP = """
            usage: performer train [--data FILE[,FILE...]] [--valid FILE] [--run DIR] [--steps N] [--seed S]
                     [--attention exact|favor-softmax|favor-relu|identity] [--direction bidir|causal]
                     [--L N] [--batch N] [--layers N] [--width N] [--heads N] [--ffn N] [--features M]
                     [--projection orthogonal|iid] [--redraw-every N] [--lr X] [--warmup N]
                     [--beta1 X] [--beta2 X] [--eps X] [--weight-decay X] [--clip X] [--dropout X]
                     [--eval-every N] [--eval-batches N] [--checkpoint-every N] [--layout pad|concat]
                     [--positional learned|sinusoidal|rotary] [--unknown x|skip] [--valid-fraction F]
                     [--resume] [--backend vector|scalar|openblas] [--threads N]

            Trains a Performer on FASTA files (plain or .gz). Without --data it trains on the bundled
            sample of 3,000 UniProtKB/Swiss-Prot sequences and validates on the bundled held-out 600.
            bidir = masked LM (15% of residues, 80/10/10), metrics on the masked positions;
            causal = next-token LM, metrics on every position. Without --valid, a seeded hash of the
            record id holds out --valid-fraction (default 0.05) of --data.
            Defaults: favor-softmax, bidir, L 256, batch 8, 2 layers, width 128, 4 heads, ffn 256,
            M 64 orthogonal features redrawn every 100 steps (--redraw-every 0: never), 300 steps,
            lr 1e-3 (warm-up 30, cosine to 0.1 lr), AdamW beta1 0.9, beta2 0.98, eps 1e-8, weight decay
            0.01, clip 1.0 (global norm), dropout 0.1, pad layout, learned positions, seed 0.
            Validation every --eval-every steps (default steps/5) on at most --eval-batches batches
            (default 40; 0 = the whole validation set), and at the end.
            Writes to --run (default runs/train-<attention>-<direction>): log.csv (every step and
            evaluation), checkpoint-NNNNNNN.safetensors every --checkpoint-every steps and at the end
            (atomic), loss.png (training and validation loss). --resume continues from the latest
            checkpoint in --run, exactly as the uninterrupted run would.

            examples:
              performer train
              performer train --attention favor-softmax --direction causal --L 512 --steps 1000 --run runs/causal
              performer train --data uniprot.fasta.gz --layout concat --L 8192 --batch 1 --run runs/long
            """;

    private TrainCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = Args.parse("train", argv, Set.of("data", "valid", "run", "steps", "seed", "attention", "direction", "L", "batch", "layers",
                "width", "heads", "ffn", "features", "redraw-every", "lr", "warmup", "weight-decay", "clip", "dropout", "eval-every",
                "checkpoint-every", "layout", "positional", "unknown", "valid-fraction", "backend", "threads", "eval-batches", "projection",
                "beta1", "beta2", "eps"), Set.of("resume"));
        String attention = a.choice("attention", "favor-softmax", Set.of("exact", "favor-softmax", "favor-relu", "identity"));
        Direction direction = Direction.of(a.choice("direction", "bidir", Set.of("bidir", "causal")));
        long seed = a.longValue("seed", 0);
        ModelConfig cfg;
        TrainConfig tc;
        try {
            ModelConfig d = ModelConfig.small();
            int l = a.integer("L", d.maxLen(), 3);
            AttentionSpec spec = AttentionSpec.of(attention, a.integer("features", 64, 1));
            if (spec instanceof AttentionSpec.Favor f)
                spec = f.withProjection(Projection.Type.valueOf(a.choice("projection", "orthogonal", Set.of("orthogonal", "iid"))
                        .toUpperCase(Locale.ROOT))).withRedrawEvery(a.integer("redraw-every", 100, 0));
            cfg = d.toBuilder().maxLen(l).layers(a.integer("layers", d.layers(), 1)).width(a.integer("width", d.width(), 1))
                    .heads(a.integer("heads", d.heads(), 1)).ffn(a.integer("ffn", d.ffn(), 1)).attention(spec).direction(direction)
                    .positions(Positions.of(a.choice("positional", "learned", Set.of("learned", "sinusoidal", "rotary"))))
                    .dropout((float) a.dbl("dropout", d.dropout())).build();
            AdamW.Config o = AdamW.Config.defaults();
            TrainConfig.Builder tb = TrainConfig.builder().steps(a.integer("steps", 300, 1)).batch(a.integer("batch", 8, 1)).length(l)
                    .optimizer(new AdamW.Config((float) a.dbl("lr", o.lr()), (float) a.dbl("beta1", o.beta1()),
                            (float) a.dbl("beta2", o.beta2()), (float) a.dbl("eps", o.eps()), (float) a.dbl("weight-decay", o.weightDecay())))
                    .clip((float) a.dbl("clip", 1.0)).evalBatches(a.integer("eval-batches", 40, 0)).seed(seed)
                    .layout(a.choice("layout", "pad", Set.of("pad", "concat")).equals("concat") ? ProteinData.Layout.CONCAT : ProteinData.Layout.PAD);
            if (a.given("warmup")) tb.warmup(a.integer("warmup", 0, 0));
            if (a.given("eval-every")) tb.evalEvery(a.integer("eval-every", 0, 0));
            if (a.given("checkpoint-every")) tb.checkpointEvery(a.integer("checkpoint-every", 0, 0));
            tc = tb.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException("train: " + e.getMessage());
        }
        boolean causal = direction.causal();
        Tokenizer.Unknown policy = a.choice("unknown", "x", Set.of("x", "skip")).equals("x") ? Tokenizer.Unknown.MAP_TO_X : Tokenizer.Unknown.SKIP_RECORD;
        double validFraction = a.dbl("valid-fraction", 0.05);
        Path run = Path.of(a.str("run", "runs/train-" + attention + "-" + (causal ? "causal" : "bidir")));

        ProteinData train = new ProteinData(), valid = new ProteinData();
        String dataDesc;
        if (a.given("data")) {
            List<Path> files = new ArrayList<>();
            for (String f : a.str("data", "").split(",")) if (!f.isBlank()) files.add(Path.of(f.trim()));
            boolean separate = a.given("valid");
            int[] rs = ProteinData.readFiles(files, policy, train, separate ? null : valid, seed, validFraction, err);
            if (separate) ProteinData.readFiles(List.of(Path.of(a.str("valid", ""))), policy, valid, null, seed, 0, err);
            dataDesc = files + " (" + rs[0] + " records read, " + rs[1] + " skipped)";
        } else {
            ProteinData.readAll(List.of(bundled("swissprot2014_sample_train.fasta")), policy, train, null, seed, 0, err);
            ProteinData.readAll(List.of(bundled("swissprot2014_sample_heldout.fasta")), policy, valid, null, seed, 0, err);
            dataDesc = "bundled UniProtKB/Swiss-Prot sample (CC BY 4.0, see dev/performer/cli/data/README.md in the jar)";
        }
        if (train.size() == 0) throw new UsageException("train: no usable training sequences in " + dataDesc);

        try (Kernels kern = Cli.kernels(a)) {
            PerformerModel model;
            AdamW opt;
            int start = 0;
            Optional<Path> latest = a.has("resume") ? Checkpoint.latest(run) : Optional.empty();
            if (a.has("resume") && latest.isEmpty()) throw new UsageException("train --resume: no checkpoint in " + run);
            if (latest.isPresent()) {
                Checkpoint.Loaded ld = Checkpoint.load(latest.get(), kern);
                if (!ld.model().config().equals(cfg))
                    throw new UsageException("train --resume: " + latest.get() + " holds a different model (" + ld.model().config().describe()
                            + "); pass the same options as the original run");
                // the number of steps (and with it the schedule and the periods) may change: a run can be extended
                TrainConfig was = ld.training().orElse(tc);
                String differs = !was.batching().equals(tc.batching()) ? "batches " + was.batching()
                        : !was.optimizer().equals(tc.optimizer()) ? "optimizer " + was.optimizer()
                        : was.seed() != tc.seed() ? "seed " + was.seed() : was.clip() != tc.clip() ? "clip " + was.clip() : null;
                if (differs != null)
                    throw new UsageException("train --resume: " + latest.get() + " was trained with other settings (" + differs
                            + "); pass the same options as the original run");
                model = ld.model();
                opt = ld.optimizer() != null ? ld.optimizer() : new AdamW(model.layout(), tc.optimizer());
                start = ld.step();
                out.printf("resuming from %s at step %d%n", latest.get(), start);
            } else {
                model = new PerformerModel(cfg, kern, seed);
                opt = new AdamW(model.layout(), tc.optimizer());
            }
            out.printf(Locale.ROOT, "model: %s, %,d parameters%n", cfg.describe(), model.params().length);
            out.printf(Locale.ROOT, "data: %s: %d training sequences (%,d residues), %d validation%n", dataDesc, train.size(), train.residues(), valid.size());
            out.printf(Locale.ROOT, "training: %d steps of %d x %d tokens, lr %.4f, seed %d, %s; run folder %s%n", tc.steps(),
                    tc.batching().size(), tc.batching().length(), tc.optimizer().lr(), seed, kern.describe(), run);
            Map<String, String> meta = Map.of("data", dataDesc);
            Progress prog = new Progress(err, "train", tc.steps() - start);
            double[] lastValid = {Double.NaN, Double.NaN, Double.NaN};
            Trainer trainer = new Trainer(model, tc, train, valid, run).optimizer(opt).metadata(meta);
            trainer.run(start, new Trainer.Listener() {
                @Override public void step(int step, float loss, double acc, float lr, double gn, double tps) {
                    prog.step(String.format(Locale.ROOT, "step %d loss %.4f acc %.3f %.0f tok/s", step, loss, acc, tps));
                }
                @Override public void evaluated(int step, Metrics m) {
                    lastValid[0] = m.loss(); lastValid[1] = m.accuracy(); lastValid[2] = m.perplexity();
                    out.printf(Locale.ROOT, "step %d validation: loss %.4f, accuracy %.4f, perplexity %.3f (%d targets)%n", step, m.loss(), m.accuracy(),
                            m.perplexity(), m.targets());
                }
                @Override public void saved(int step, Path f) { out.printf("step %d checkpoint: %s%n", step, f); }
            });
            lossPlot(run, cfg.describe());
            out.printf(Locale.ROOT, "done: validation loss %.4f, accuracy %.4f, perplexity %.3f; log %s, plot %s%n", lastValid[0], lastValid[1],
                    lastValid[2], run.resolve("log.csv"), run.resolve("loss.png"));
        }
        return 0;
    }

    static FastaReader bundled(String name) throws IOException {
        InputStream in = TrainCommand.class.getResourceAsStream("/dev/performer/cli/data/" + name);
        if (in == null) throw new IOException("bundled data " + name + " missing from the jar");
        return FastaReader.open("bundled:" + name, in);
    }

    /** loss.png from log.csv: training loss (moving average of 10 steps) and validation loss against steps. */
    static void lossPlot(Path run, String title) throws IOException {
        List<double[]> tr = new ArrayList<>(), va = new ArrayList<>();
        for (TrainingLog.Row r : TrainingLog.read(TrainingLog.of(run))) (r.isTrain() ? tr : va).add(new double[]{r.step(), r.loss()});
        double[] tx = new double[tr.size()], ty = new double[tr.size()];
        for (int i = 0; i < tr.size(); i++) {
            tx[i] = tr.get(i)[0];
            double s = 0;
            int n = 0;
            for (int j = Math.max(0, i - 9); j <= i; j++) { s += tr.get(j)[1]; n++; }
            ty[i] = s / n;
        }
        List<Plot.Series> series = new ArrayList<>(List.of(new Plot.Series("training loss (mean of 10 steps)", tx, ty, null)));
        if (!va.isEmpty()) series.add(new Plot.Series("validation loss", va.stream().mapToDouble(p -> p[0]).toArray(),
                va.stream().mapToDouble(p -> p[1]).toArray(), null));
        Plot.lineChart(run.resolve("loss.png"), "Training: " + title, "step", "cross-entropy (nats per target)", false, false, false, series,
                "log: " + run.resolve("log.csv"));
    }
}
