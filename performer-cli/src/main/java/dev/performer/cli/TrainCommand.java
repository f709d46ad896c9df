package dev.performer.cli;

import dev.performer.attention.AttentionSpec;
import dev.performer.attention.Projection;
import dev.performer.data.FastaReader;
import dev.performer.data.Images;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.model.Direction;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import dev.performer.model.Positions;
import dev.performer.train.AdamW;
import dev.performer.train.Checkpoint;
import dev.performer.train.Metrics;
import dev.performer.train.RunFolder;
import dev.performer.train.TrainConfig;
import dev.performer.train.Trainer;
import dev.performer.train.TrainingLog;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer train}: a Performer language model on protein sequences. */
@Command(name = "train", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "train a Performer language model on proteins, images or bytes (bundled sample by default)",
        description = {
            "Trains a Performer on FASTA files (plain or .gz). Without --data it trains on the bundled sample of 3,000 "
                + "UniProtKB/Swiss-Prot sequences and validates on the bundled held-out 600. bidir = masked LM (15%% "
                + "of residues, 80/10/10), metrics on the masked positions; causal = next-token LM, metrics on every "
                + "position. Without --valid, a seeded hash of the record id holds out --valid-fraction of --data.",
            "",
            "Images (--data-kind image: IDX files such as MNIST's, or folders of PNG files) are sequences of their "
                + "pixels in raster order (R, G, B interleaved for colour), 256 levels, <bos> first and no <eos>; "
                + "causal by default, L = the pixels of one image; validation reports bits per dimension (the "
                + "paper's image metric) and loss.png plots it. Bytes (--data-kind bytes: any files) are 256 symbols; "
                + "the last --valid-fraction of each file is held out; concat layout and causal by default; bits per "
                + "byte. The kind is detected from the first file when not given, and saved in the checkpoint.",
            "",
            "Validation every --eval-every steps on at most --eval-batches batches, and at the end.",
            "",
            "Writes to --run: log.csv (every step and evaluation), checkpoint-NNNNNNN.safetensors every "
                + "--checkpoint-every steps and at the end (atomic), loss.png (training and validation loss). --resume "
                + "continues from the latest checkpoint in --run, exactly as the uninterrupted run would."},
        footerHeading = "%nexamples:%n",
        footer = {
            "  performer train",
            "  performer train --attention favor-softmax --direction causal --L 512 --steps 1000 --run runs/causal",
            "  performer train --data uniprot.fasta.gz --layout concat --L 8192 --batch 1 --run runs/long",
            "  performer train --init-from runs/exact --attention favor-softmax --steps 100 --run runs/exact-to-favor",
            "  performer train --data-kind image --steps 200 --run runs/fashion",
            "  performer train --data /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz --run runs/fmnist",
            "  performer train --data README.md --data-kind bytes --L 256 --run runs/bytes"})
final class TrainCommand extends Options.Command {

    /** Where the steps are computed (null: this JVM); another module's command line sets it ({@link Commands}). */
    java.util.function.Supplier<Trainer.Engine> engine;

    @Option(names = "--data", paramLabel = "FILE[,FILE...]",
            description = "files to train on: FASTA (plain or .gz), IDX images or folders of PNG, any file as bytes "
                    + "(see --data-kind; default: the bundled protein sample, or with --data-kind image the bundled "
                    + "300 Fashion-MNIST images)")
    String data;

    @Mixin Options.DataKindOption kind;

    @Option(names = "--valid", paramLabel = "FILE", description = "validation file (default: held out of --data)")
    String validFile;

    @Option(names = "--run", paramLabel = "DIR",
            description = "run folder (default runs/train-<attention>-<direction>)")
    String runDir;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "300", converter = Options.AtLeast1.class,
            description = "training steps (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", converter = Options.Whole.class,
            description = "seed of the weights, the batches, the masks and the split (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--attention", paramLabel = "KIND", defaultValue = "favor-softmax",
            converter = Options.ModelAttentions.class, completionCandidates = Options.ModelAttentions.class,
            description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    String attention;

    @Option(names = "--direction", paramLabel = "DIR", converter = Options.Directions.class,
            completionCandidates = Options.Directions.class,
            description = "${COMPLETION-CANDIDATES}: masked or next-token LM (default bidir for proteins, causal for "
                    + "images and bytes)")
    String directionName;

    @Option(names = "--L", paramLabel = "N", converter = Options.AtLeast3.class,
            description = "sequence length, and the model's maximum length (default 256; for images the values of "
                    + "one image, 784 for 28x28 grey)")
    Integer l;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", converter = Options.AtLeast1.class,
            description = "sequences per batch (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--layers", paramLabel = "N", defaultValue = "2", converter = Options.AtLeast1.class,
            description = "blocks (default ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--width", paramLabel = "N", defaultValue = "128", converter = Options.AtLeast1.class,
            description = "model width (default ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--heads", paramLabel = "N", defaultValue = "4", converter = Options.AtLeast1.class,
            description = "attention heads (default ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--ffn", paramLabel = "N", defaultValue = "256", converter = Options.AtLeast1.class,
            description = "feed-forward width (default ${DEFAULT-VALUE})")
    int ffn;

    @Option(names = "--features", paramLabel = "M", defaultValue = "64", converter = Options.AtLeast1.class,
            description = "random features M of FAVOR+ (default ${DEFAULT-VALUE})")
    int features;

    @Option(names = "--projection", paramLabel = "TYPE", defaultValue = "orthogonal",
            converter = Options.ProjectionTypes.class, completionCandidates = Options.ProjectionTypes.class,
            description = "${COMPLETION-CANDIDATES} random features (default ${DEFAULT-VALUE})")
    String projection;

    @Option(names = "--redraw-every", paramLabel = "N", defaultValue = "100", converter = Options.AtLeast0.class,
            description = "redraw the features every N steps; 0: never (default ${DEFAULT-VALUE})")
    int redrawEvery;

    @Option(names = "--linformer-k", paramLabel = "K", converter = Options.AtLeast1.class,
            description = "Linformer: keys and values projected to K rows (default L/4)")
    Integer linformerK;

    @Option(names = "--linformer-headwise", description = "Linformer: a projection per head (default: one per layer)")
    boolean linformerHeadwise;

    @Option(names = "--lsh-buckets", paramLabel = "N", converter = Options.AtLeast1.class,
            description = "Reformer: hash buckets, 1 or even (default 2·L/chunk)")
    Integer lshBuckets;

    @Option(names = "--lsh-rounds", paramLabel = "N", defaultValue = "2", converter = Options.AtLeast1.class,
            description = "Reformer: hashing rounds, combined by log-sum-exp (default ${DEFAULT-VALUE})")
    int lshRounds;

    @Option(names = "--lsh-chunk", paramLabel = "N", defaultValue = "64", converter = Options.AtLeast1.class,
            description = "Reformer: chunk of the sorted sequence; each attends to itself and the previous one "
                    + "(default ${DEFAULT-VALUE})")
    int lshChunk;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "1e-3", converter = Options.Positive.class,
            description = "peak learning rate: warm-up, then cosine to 0.1 lr (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--warmup", paramLabel = "N", converter = Options.AtLeast0.class,
            description = "warm-up steps (default 30)")
    Integer warmup;

    @Option(names = "--beta1", paramLabel = "X", defaultValue = "0.9", converter = Options.Rate.class,
            description = "AdamW beta1 (default ${DEFAULT-VALUE})")
    double beta1;

    @Option(names = "--beta2", paramLabel = "X", defaultValue = "0.98", converter = Options.Rate.class,
            description = "AdamW beta2 (default ${DEFAULT-VALUE})")
    double beta2;

    @Option(names = "--eps", paramLabel = "X", defaultValue = "1e-8", converter = Options.Positive.class,
            description = "AdamW epsilon (default ${DEFAULT-VALUE})")
    double eps;

    @Option(names = "--weight-decay", paramLabel = "X", defaultValue = "0.01", converter = Options.NonNegative.class,
            description = "AdamW weight decay (default ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--clip", paramLabel = "X", defaultValue = "1.0", converter = Options.Positive.class,
            description = "clip the global gradient norm to X (default ${DEFAULT-VALUE})")
    double clip;

    @Option(names = "--dropout", paramLabel = "X", defaultValue = "0.1", converter = Options.Rate.class,
            description = "dropout rate (default ${DEFAULT-VALUE})")
    double dropout;

    @Option(names = "--eval-every", paramLabel = "N", converter = Options.AtLeast0.class,
            description = "validate every N steps (default steps/5)")
    Integer evalEvery;

    @Option(names = "--eval-batches", paramLabel = "N", defaultValue = "40", converter = Options.AtLeast0.class,
            description = "validate on at most N batches; 0: the whole validation set (default ${DEFAULT-VALUE})")
    int evalBatches;

    @Option(names = "--checkpoint-every", paramLabel = "N", converter = Options.AtLeast0.class,
            description = "write a checkpoint every N steps (and at the end)")
    Integer checkpointEvery;

    @Option(names = "--layout", paramLabel = "LAYOUT", converter = Options.Layouts.class,
            completionCandidates = Options.Layouts.class,
            description = "${COMPLETION-CANDIDATES}: one sequence per row, or sequences concatenated "
                    + "(default pad; concat for bytes)")
    String layout;

    @Option(names = "--positional", paramLabel = "KIND", defaultValue = "learned",
            converter = Options.PositionKinds.class,
            completionCandidates = Options.PositionKinds.class,
            description = "${COMPLETION-CANDIDATES} positions (default ${DEFAULT-VALUE})")
    String positional;

    @Mixin Options.UnknownOption unknown;

    @Option(names = "--valid-fraction", paramLabel = "F", defaultValue = "0.05", converter = Options.Fraction.class,
            description = "fraction of --data held out for validation without --valid (default ${DEFAULT-VALUE})")
    double validFraction;

    @Option(names = "--resume", description = "continue from the latest checkpoint in --run")
    boolean resume;

    @Option(names = "--init-from", paramLabel = "CHECKPOINT",
            description = "start from a trained model's weights (a .safetensors file, or a run folder: its latest "
                    + "checkpoint) under this run's --attention and --dropout, with a fresh optimizer and schedule; "
                    + "the architecture and L come from the checkpoint, and validation also runs before step 1")
    String initFrom;

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() throws IOException {
        try (Kernels kern = kernels.kernels()) {
            return train(kern);
        }
    }

    private int train(Kernels kern) throws IOException {
        Checkpoint.Loaded init = initFrom == null ? null : Cli.loadCheckpoint(initFrom, "train --init-from", kern);
        if (init != null) inheritArchitecture(init.model().config());
        List<Path> files = new ArrayList<>();
        if (data != null) for (String f : data.split(",")) if (!f.isBlank()) files.add(Path.of(f.trim()));
        for (Path f : files) Cli.inputPath("train", "--data", f, true);
        if (validFile != null) Cli.inputPath("train", "--valid", Path.of(validFile), true);
        Tokenizer tk = kind.resolve("train", files, init == null ? null : init.model().config().tokenizer(),
                Tokenizer.PROTEIN, out);
        if (files.isEmpty() && tk == Tokenizer.BYTES)
            throw new UsageException("train: --data-kind bytes needs --data (any files)");
        Data d = readData(tk, files);
        if (directionName == null) directionName = tk == Tokenizer.PROTEIN ? "bidir" : "causal";
        if (layout == null) layout = tk == Tokenizer.BYTES ? "concat" : "pad";
        if (l == null) {
            int[] shape = d.train().imageShape();
            l = tk == Tokenizer.IMAGE && shape != null ? shape[0] * shape[1] * shape[2] : 256;
        }
        Direction direction = Direction.of(directionName);
        ModelConfig cfg;
        TrainConfig tc;
        try {
            AttentionSpec spec = switch (attention) {
                case "linformer" -> new AttentionSpec.Linformer(linformerK != null ? linformerK : Math.max(1, l / 4),
                        linformerHeadwise);
                case "reformer" -> new AttentionSpec.Reformer(lshBuckets != null ? lshBuckets
                        : Math.max(2, 2 * ((l + lshChunk - 1) / lshChunk)), lshRounds, lshChunk);
                default -> AttentionSpec.of(attention, features);
            };
            if (spec instanceof AttentionSpec.Favor f)
                spec = f.withProjection(Projection.Type.valueOf(projection.toUpperCase(Locale.ROOT)))
                        .withRedrawEvery(redrawEvery);
            ModelConfig.Builder mb = init != null ? init.model().config().toBuilder()
                    : ModelConfig.small().toBuilder().tokenizer(tk).maxLen(l).layers(layers).width(width).heads(heads)
                            .ffn(ffn)
                            .direction(direction).positions(Positions.of(positional));
            cfg = mb.attention(spec).dropout((float) dropout).build();
            TrainConfig.Builder tb = TrainConfig.builder().steps(steps).batch(batch).length(l)
                    .optimizer(new AdamW.Config((float) lr, (float) beta1, (float) beta2, (float) eps,
                            (float) weightDecay))
                    .clip((float) clip).evalBatches(evalBatches).seed(seed)
                    .layout(layout.equals("concat") ? SequenceData.Layout.CONCAT : SequenceData.Layout.PAD);
            if (warmup != null) tb.warmup(warmup);
            if (evalEvery != null) tb.evalEvery(evalEvery);
            if (checkpointEvery != null) tb.checkpointEvery(checkpointEvery);
            tc = tb.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException("train: " + e.getMessage());
        }
        boolean causal = direction.causal();
        Path run = Path.of(runDir != null ? runDir : "runs/train-" + (tk == Tokenizer.PROTEIN ? "" : tk.id() + "-")
                + attention + "-" + (causal ? "causal" : "bidir"));

        RunFolder folder;
        try {
            folder = RunFolder.open(run);
        } catch (RunFolder.Unavailable e) {
            throw new UsageException("train: " + e.getMessage());
        }
        try (folder) {
            return train(kern, cfg, tc, init, folder, d);
        }
    }

    /** The training and validation sequences, and what they are (for logs and the checkpoint). */
    private record Data(SequenceData train, SequenceData valid, String description) {}

    private Data readData(Tokenizer tk, List<Path> files) throws IOException {
        Tokenizer.Unknown policy = unknown.policy();
        SequenceData train = new SequenceData(tk), valid = new SequenceData(tk);
        String dataDesc;
        if (!files.isEmpty()) {
            boolean separate = validFile != null;
            int[] rs = Options.read("train", files, policy, train, separate ? null : valid, seed, validFraction, err);
            if (separate) Options.read("train", List.of(Path.of(validFile)), policy, valid, null, seed, 0, err);
            dataDesc = files + " (" + rs[0] + " records read, " + rs[1] + " skipped)";
        } else if (tk == Tokenizer.IMAGE) {
            try (InputStream in = bundledStream(BUNDLED_IMAGES)) {
                Images.add(Images.readIdx("bundled:" + BUNDLED_IMAGES, in), train, valid, seed, validFraction);
            }
            dataDesc = "bundled Fashion-MNIST sample of 300 test images (MIT, see dev/performer/cli/data/README.md in "
                    + "the jar)";
        } else {
            SequenceData.readAll(List.of(bundled("swissprot2014_sample_train.fasta")), policy, train, null, seed, 0,
                    err);
            SequenceData.readAll(List.of(bundled("swissprot2014_sample_heldout.fasta")), policy, valid, null, seed, 0,
                    err);
            dataDesc = "bundled UniProtKB/Swiss-Prot sample (CC BY 4.0, see dev/performer/cli/data/README.md in the "
                    + "jar)";
        }
        if (train.size() == 0) throw new UsageException("train: no usable training sequences in " + dataDesc);
        if (validFile != null && valid.size() == 0)
            throw new UsageException("train: no usable validation sequences in --valid " + validFile);
        if (valid.size() == 0)
            err.printf("warning: no validation sequences (--valid-fraction %s of %d records held out none); "
                    + "training without validation%n", validFraction, train.size());
        return new Data(train, valid, dataDesc);
    }

    private int train(Kernels kern, ModelConfig cfg, TrainConfig tc, Checkpoint.Loaded init, RunFolder folder, Data d)
            throws IOException {
        Path run = folder.path();
        if (!resume && folder.holdsRun()) {
            List<Path> cks = folder.checkpoints();
            throw new UsageException("train: " + run + " already holds a run (" + (cks.isEmpty() ? "log.csv"
                    : cks.size() + " checkpoints, the last " + cks.get(cks.size() - 1).getFileName())
                    + "); continue it with --resume, or choose another --run");
        }
        Optional<RunFolder.Found> latest = resume ? folder.latestLoadable(kern, w -> err.println("warning: " + w))
                : Optional.empty();
        if (resume && latest.isEmpty())
            throw new UsageException("train --resume: no " + (folder.checkpoints().isEmpty() ? "" : "loadable ")
                    + "checkpoint in " + run);
        SequenceData train = d.train(), valid = d.valid();
        String dataDesc = d.description();
        PerformerModel model;
        AdamW opt;
        int start = 0;
        if (latest.isPresent()) {
            Checkpoint.Loaded ld = latest.get().loaded();
            if (!ld.model().config().equals(cfg))
                throw new UsageException("train --resume: " + latest.get().file() + " holds a different model ("
                        + ld.model().config().describe()
                        + "); pass the same options as the original run");
            // the number of steps (and with it the schedule and the periods) may change: a run can be extended
            TrainConfig was = ld.training().orElse(tc);
            String differs = !was.batching().equals(tc.batching()) ? "batches " + was.batching()
                    : !was.optimizer().equals(tc.optimizer()) ? "optimizer " + was.optimizer()
                    : was.seed() != tc.seed() ? "seed " + was.seed()
                    : was.clip() != tc.clip() ? "clip " + was.clip() : null;

            if (differs != null)
                throw new UsageException("train --resume: " + latest.get().file() + " was trained with other settings ("
                        + differs
                        + "); pass the same options as the original run");
            model = ld.model();
            opt = ld.optimizer() != null ? ld.optimizer() : new AdamW(model.layout(), tc.optimizer());
            start = ld.step();
            String trainedOn = ld.metadata().get("data");
            if (trainedOn != null && !trainedOn.equals(dataDesc))
                throw new UsageException("train --resume: " + latest.get().file() + " was trained on " + trainedOn
                        + ", not on " + dataDesc + "; pass the same --data as the original run");
            if (start >= tc.steps()) {
                out.printf("%s: the run is finished (step %d of --steps %d); nothing to do. Pass a larger --steps "
                        + "to extend it.%n", run, start, tc.steps());
                return 0;
            }
            out.printf("resuming from %s at step %d%n", latest.get().file(), start);
        } else {
            model = new PerformerModel(cfg, kern, seed);
            opt = new AdamW(model.layout(), tc.optimizer());
            if (init != null) {
                List<String> fresh;
                try {
                    fresh = model.copyWeightsFrom(init.model());
                } catch (IllegalArgumentException e) {
                    throw new UsageException("train --init-from " + initFrom + ": " + e.getMessage());
                }
                out.printf("initialized from %s (step %d, %s attention)%s%n", initFrom, init.step(),
                        init.model().config().attention().id(),
                        fresh.isEmpty() ? "" : "; drawn fresh: " + String.join(", ", fresh));
            }
        }
        out.printf(Locale.ROOT, "model: %s, %,d parameters%n", cfg.describe(), model.params().length);
        Tokenizer tk = cfg.tokenizer();
        int[] shape = train.imageShape();
        out.printf(Locale.ROOT, "data: %s: %s, %d training sequences (%,d %ss), %d validation%s%n", dataDesc, tk.id(),
                train.size(), train.residues(), tk.unit(), valid.size(),
                shape == null ? "" : "; images of " + Images.shape(shape));
        if (shape != null && tc.batching().length() < shape[0] * shape[1] * shape[2])
            err.printf("warning: --L %d is shorter than an image (%d values): rows are random windows of images%n",
                    tc.batching().length(), shape[0] * shape[1] * shape[2]);
        out.printf(Locale.ROOT, "training: %d steps of %d x %d tokens, lr %.4f, seed %d, %s; run folder %s%n",
                tc.steps(),
                tc.batching().size(), tc.batching().length(), tc.optimizer().lr(), seed, kern.describe(), run);
        Map<String, String> meta = new java.util.LinkedHashMap<>(Map.of("data", dataDesc));
        if (init != null) meta.put("init-from", initFrom + " (step " + init.step() + ", "
                + init.model().config().describe() + ")");
        if (shape != null) meta.put(IMAGE_SHAPE, shape[0] + "x" + shape[1] + "x" + shape[2]);
        Progress prog = new Progress(err, "train", tc.steps() - start);
        double[] lastValid = {Double.NaN, Double.NaN, Double.NaN};
        Trainer trainer = new Trainer(model, tc, train, valid, run).optimizer(opt).metadata(meta)
                .evaluateFirst(init != null).folder(folder);
        if (engine != null) trainer.engine(engine.get());
        try {
            trainer.run(start, listener(prog, lastValid, tk));
            lossPlot(run, cfg.describe(), tk);
        } catch (Trainer.Diverged e) {
            throw new UsageException("train: " + e.getMessage() + lastIntact(folder, kern)
                    + "; lower --lr or --clip, then --resume or start again");
        } catch (IOException e) {   // the environment: a full disk, a folder made read-only, a file system gone
            String cause = Optional.ofNullable(Main.environmentFault(e)).orElse(String.valueOf(e.getMessage()));
            throw new UsageException("train: cannot write to " + run + " (" + cause + ")" + lastIntact(folder, kern)
                    + "; make room, then --resume");
        }
        if (Double.isNaN(lastValid[0]))
            out.printf("done: no validation (no validation sequences); log %s, plot %s%n", run.resolve("log.csv"),
                    run.resolve("loss.png"));
        else
            out.printf(Locale.ROOT, "done: validation loss %.4f, accuracy %.4f, perplexity %.3f%s; log %s, plot %s%n",
                    lastValid[0], lastValid[1], lastValid[2],
                    bitsNote(tk, new Metrics(lastValid[0], lastValid[1], lastValid[2], 0)), run.resolve("log.csv"),
                    run.resolve("loss.png"));
        return 0;
    }

    /** The metadata key of an image model's image shape, "HxWxC". */
    static final String IMAGE_SHAPE = "image.shape";

    /** ", 3.21 bits per dim" for image and byte models, nothing for proteins. */
    static String bitsNote(Tokenizer tk, Metrics m) {
        return tk == Tokenizer.PROTEIN ? "" : String.format(Locale.ROOT, ", %.4f bits per %s", m.bits(), tk.unit());
    }

    /** "; the last checkpoint, F (step N), is intact", or nothing when there is none. */
    private static String lastIntact(RunFolder folder, Kernels kern) {
        try {
            Optional<RunFolder.Found> last = folder.latestLoadable(kern, w -> { });
            return last.isEmpty() ? "" : "; the last checkpoint, " + last.get().file() + " (step "
                    + last.get().loaded().step() + "), is intact";
        } catch (IOException e) {
            return "";
        }
    }

    /** Progress bar per step, a line per validation and checkpoint; the last validation into lastValid. */
    private Trainer.Listener listener(Progress prog, double[] lastValid, Tokenizer tk) {
        return new Trainer.Listener() {
            @Override public void step(int step, float loss, double acc, float lr, double gn, double tps) {
                prog.step(String.format(Locale.ROOT, "step %d loss %.4f acc %.3f %.0f tok/s", step, loss, acc,
                        tps));
            }
            @Override public void evaluated(int step, Metrics m) {
                lastValid[0] = m.loss(); lastValid[1] = m.accuracy(); lastValid[2] = m.perplexity();
                out.printf(Locale.ROOT,
                        "step %d validation: loss %.4f, accuracy %.4f, perplexity %.3f%s (%d targets)%n", step,
                        m.loss(), m.accuracy(), m.perplexity(), bitsNote(tk, m), m.targets());
            }
            @Override public void saved(int step, Path f) { out.printf("step %d checkpoint: %s%n", step, f); }
        };
    }

    /**
     * --init-from: the architecture options take the checkpoint's values; one given on the command
     * line must agree with it (the weights' shapes depend on them).
     */
    private void inheritArchitecture(ModelConfig c) {
        agree("--layers", layers, c.layers());
        agree("--width", width, c.width());
        agree("--heads", heads, c.heads());
        agree("--ffn", ffn, c.ffn());
        agree("--direction", directionName, c.direction().id());
        agree("--positional", positional, c.positions().id());
        layers = c.layers(); width = c.width(); heads = c.heads(); ffn = c.ffn();
        directionName = c.direction().id();
        positional = c.positions().id();
        if (!given("--L")) l = c.maxLen();
        else if (l > c.maxLen())
            throw new UsageException("train: --L " + l + " exceeds the maximum length " + c.maxLen() + " of the "
                    + "--init-from model " + initFrom);
    }

    private void agree(String option, Object value, Object checkpoint) {
        if (given(option) && !value.equals(checkpoint))
            throw new UsageException("train: " + option + " " + value + " differs from the --init-from model "
                    + initFrom + " (" + option + " " + checkpoint + "); leave it out to take the model's");
    }

    static final String BUNDLED_IMAGES = "fashion-mnist-t10k-sample-300-images-idx3-ubyte.gz";

    static FastaReader bundled(String name) throws IOException {
        return FastaReader.open("bundled:" + name, bundledStream(name));
    }

    static InputStream bundledStream(String name) throws IOException {
        InputStream in = TrainCommand.class.getResourceAsStream("/dev/performer/cli/data/" + name);
        if (in == null) throw new IOException("bundled data " + name + " missing from the jar");
        return in;
    }

    /**
     * loss.png from log.csv: training loss (moving average of 10 steps) and validation loss against
     * steps; in nats per target for proteins, in bits per dimension (per byte) for image (byte) models.
     */
    static void lossPlot(Path run, String title, Tokenizer tk) throws IOException {
        double unit = tk == Tokenizer.PROTEIN ? 1 : 1 / Math.log(2);
        List<double[]> tr = new ArrayList<>(), va = new ArrayList<>();
        for (TrainingLog.Row r : TrainingLog.read(TrainingLog.of(run))) (r.isTrain() ? tr : va)
                .add(new double[]{r.step(), r.loss() * unit});
        double[] tx = new double[tr.size()], ty = new double[tr.size()];
        for (int i = 0; i < tr.size(); i++) {
            tx[i] = tr.get(i)[0];
            double s = 0;
            int n = 0;
            for (int j = Math.max(0, i - 9); j <= i; j++) { s += tr.get(j)[1]; n++; }
            ty[i] = s / n;
        }
        List<Plot.Series> series = new ArrayList<>(List.of(new Plot.Series("training loss (mean of 10 steps)", tx, ty,
                null)));
        if (!va.isEmpty()) series.add(new Plot.Series("validation loss", va.stream().mapToDouble(p -> p[0]).toArray(),
                va.stream().mapToDouble(p -> p[1]).toArray(), null));
        String axis = tk == Tokenizer.PROTEIN ? "cross-entropy (nats per target)"
                : "bits per " + (tk == Tokenizer.IMAGE ? "dimension" : "byte");
        Plot.lineChart(run.resolve("loss.png"), "Training: " + title, "step", axis, false, false, false, series,
                "log: " + run.resolve("log.csv"));
    }
}
