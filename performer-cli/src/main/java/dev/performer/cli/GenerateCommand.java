package dev.performer.cli;

import dev.performer.data.Images;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.model.PerformerModel;
import dev.performer.model.Positions;
import dev.performer.model.Sampler;
import dev.performer.random.Seeds;
import dev.performer.train.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code performer generate}: sample continuations of a prompt from a causal model: protein
 * residues, text (byte models), or images (a PNG grid of samples, or of completions of images).
 */
@Command(name = "generate", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "sample continuations of a prompt, or images (causal models, O(1)-state FAVOR+ decoding)",
        description = {"Feeds <bos> and the prompt to a causal model one token at a time and samples N more "
                + "tokens (stopping early at <eos>), with temperature, top-k (0 = off) and nucleus top-p (1 = off) "
                + "sampling; sample i draws from its own stream of --seed (the same whatever --samples). The "
                + "--samples sequences are decoded together, one batched step per token. --ignore-eos keeps going "
                + "past <eos> (for timing). FAVOR+ models decode with the recurrent form: O(M·D) state per head, so "
                + "each new token costs the same however long the prefix. Models trained with --layout concat start "
                + "from <sep> (the record boundary they saw) instead of <bos>. Prints each sample (protein models: "
                + "prompt|residues; byte models: a line '--- sample i ---' when there are several, then the prompt and "
                + "the text), then the decoding speed over all samples "
                + "and the attention state size.",
            "",
            "Image models write a PNG grid to --out: --samples images drawn from nothing, or with --complete FILE "
                + "(IDX images or a folder of PNG) the top halves of its first --samples images completed, each "
                + "shown beside the original. Pixels are never <eos>: every image is whole."},
        footerHeading = "%nexamples:%n",
        footer = {"  performer generate --checkpoint runs/causal --prompt MKVLAAG --tokens 60 --top-k 10",
            "  performer generate --checkpoint runs/fmnist --samples 16 --out samples.png",
            "  performer generate --checkpoint runs/fmnist --complete t10k-images-idx3-ubyte.gz --samples 8 "
                + "--out completions.png",
            "  performer generate --checkpoint runs/bytes --prompt 'The ' --tokens 200"})
final class GenerateCommand extends Options.Command {

    @Mixin
    Options.CheckpointOption checkpoint;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "",
            description = "amino-acid letters (protein models) or text (byte models) to continue (default: none)")
    String prompt;

    @Option(names = "--tokens", paramLabel = "N", converter = Options.AtLeast1.class,
            description = "tokens to sample (default 50; image models: the rest of the image)")
    Integer n;

    @Option(names = "--temperature", paramLabel = "X", defaultValue = "1.0", converter = Options.Positive.class,
            description = "sampling temperature (default ${DEFAULT-VALUE})")
    double temp;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", converter = Options.AtLeast0.class,
            description = "sample from the K most likely tokens; 0: off (default ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1.0", converter = Options.Share.class,
            description = "nucleus sampling; 1: off (default ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", converter = Options.Whole.class,
            description = "seed of the sampling (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "1", converter = Options.AtLeast1.class,
            description = "samples to draw (default ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--ignore-eos", description = "keep going past <eos> (for timing)")
    boolean ignoreEos;

    @Option(names = "--out", paramLabel = "FILE.png", description = "image models: the PNG grid of the images")
    Path outPng;

    @Option(names = "--complete", paramLabel = "FILE",
            description = "image models: complete the top halves of this file's first --samples images (IDX, or "
                    + "a folder of PNG)")
    Path complete;

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() throws IOException {
        Sampler sampler;
        try {
            sampler = new Sampler(temp, topK, topP);
        } catch (IllegalArgumentException e) {
            throw new UsageException("generate: " + e.getMessage());
        }
        if (outPng != null) {
            if (!outPng.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"))
                throw new UsageException("generate: --out must name a .png file, got " + outPng);
            Cli.outputFile("generate", "--out", outPng);
        }
        if (complete != null) Cli.inputPath("generate", "--complete", complete, true);
        try (Kernels kern = kernels.kernels()) {
            Checkpoint.Loaded ld = checkpoint.load("generate", kern);
            PerformerModel model = ld.model();
            if (!model.config().causal())
                throw new UsageException("generate: " + checkpoint
                        + " is a bidirectional (masked LM) model; generation needs a causal one");
            Tokenizer tk = model.config().tokenizer();
            SplittableRandom[] r = new SplittableRandom[samples];   // sample i: its own stream, whatever N
            for (int i = 0; i < samples; i++) r[i] = new SplittableRandom(Seeds.nth(seed, i));
            if (tk == Tokenizer.IMAGE) return images(ld, sampler, r);
            if (outPng != null || complete != null)
                throw new UsageException("generate: --out and --complete are for image models; " + checkpoint
                        + " is " + tk.aModel() + " (its samples are printed)");
            boolean concat = ld.training().map(t -> t.batching().layout() == SequenceData.Layout.CONCAT).orElse(false);
            text(model, sampler, r, concat ? Tokenizer.SEP : Tokenizer.BOS);
        }
        return 0;
    }

    /**
     * Protein and byte models: samples printed as text, one line each for proteins, the text with a
     * header line per sample for bytes (text has its own line breaks). The first token fed is
     * start: BOS, or SEP for a model trained on concatenated records (its rows never began with BOS;
     * a record began after SEP).
     */
    private void text(PerformerModel model, Sampler sampler, SplittableRandom[] r, int start) {
        Tokenizer tk = model.config().tokenizer();
        int bad = tk.firstUnknown(prompt);
        if (bad >= 0)
            throw new UsageException("generate: --prompt has '" + prompt.charAt(bad) + "' at " + (bad + 1)
                    + ", not " + tk.expects());
        int tokens = n != null ? n : 50;
        int[] ptoks = tk.encode(prompt, Tokenizer.Unknown.MAP_TO_X);
        int vocab = model.config().vocab(), maxLen = model.config().maxLen();
        if (model.config().positions() == Positions.LEARNED && 1 + ptoks.length + tokens > maxLen)
            throw new UsageException("generate: <bos>, the prompt's " + ptoks.length + " " + tk.unit() + "s and "
                    + "--tokens " + tokens + " need " + (1 + ptoks.length + tokens) + " positions; this model's "
                    + "learned positions end at " + maxLen);
        PerformerModel.BatchDecoder dec = model.decoder(samples);
        int[] in = new int[samples];
        Arrays.fill(in, start);
        float[] p = dec.step(in);
        for (int t : ptoks) {
            Arrays.fill(in, t);
            p = dec.step(in);
        }
        int[][] made = new int[samples][tokens];
        int[] count = new int[samples];
        boolean[] done = new boolean[samples], ended = new boolean[samples];
        float[] row = new float[vocab];
        int active = samples;
        long t0 = System.nanoTime(), steps = 0;
        for (int k = 0; k < tokens && active > 0; k++) {
            for (int i = 0; i < samples; i++) {
                if (done[i]) { in[i] = Tokenizer.EOS; continue; }  // finished: kept in the batch, ignored
                System.arraycopy(p, i * vocab, row, 0, vocab);
                int next = sampler.sample(row, r[i]);
                made[i][count[i]++] = next;
                in[i] = next;
                if (next == Tokenizer.EOS && !ignoreEos) { ended[i] = true; done[i] = true; active--; }
            }
            if (active > 0) { p = dec.step(in); steps++; }
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        long total = 0;
        for (int i = 0; i < samples; i++) {
            int[] ids = made[i];
            int len = ended[i] ? count[i] - 1 : count[i];
            if (tk == Tokenizer.PROTEIN) {
                StringBuilder sb = new StringBuilder();
                for (int j = 0; j < len; j++) if (ids[j] >= Tokenizer.FIRST_SYMBOL) sb.append(tk.decode(ids[j]));
                out.printf(Locale.ROOT, "%s|%s%s%n", prompt, sb, ended[i] ? "<eos>" : "");
            } else {
                if (samples > 1) out.printf(Locale.ROOT, "--- sample %d ---%n", i + 1);
                out.printf(Locale.ROOT, "%s%s%n", prompt, tk.decode(ids, 0, len));
            }
            total += count[i];
        }
        err.printf(Locale.ROOT, "%d sample%s: %d tokens in %.2f s (%.1f tokens/s; %d batched steps of %d), "
                        + "attention state %,d floats at position %d%n",
                samples, samples == 1 ? "" : "s", total, sec, total / sec, steps, samples, dec.stateFloats(),
                dec.position());
    }

    /** Image models: a PNG grid of samples, or of completions beside their originals. */
    private int images(Checkpoint.Loaded ld, Sampler sampler, SplittableRandom[] r) throws IOException {
        PerformerModel model = ld.model();
        if (outPng == null)
            throw new UsageException("generate: " + checkpoint + " is an image model: give --out FILE.png for the "
                    + "grid");
        if (!prompt.isEmpty())
            throw new UsageException("generate: --prompt is text; an image model completes images given with "
                    + "--complete FILE");
        int[] shape = imageShape(ld);
        int h = shape[0], w = shape[1], c = shape[2], dims = h * w * c;
        List<int[]> grid = new ArrayList<>();
        long t0 = System.nanoTime();
        int columns, made;
        if (complete != null) {
            Images.Set set = Images.read(complete);
            if (set.height() != h || set.width() != w || set.channels() != c)
                throw new UsageException("generate: --complete " + complete + " holds images of "
                        + Images.shape(new int[]{set.height(), set.width(), set.channels()}) + "; the model's are "
                        + Images.shape(shape));
            if (set.count() < samples)
                throw new UsageException("generate: --samples " + samples + " but --complete " + complete + " has "
                        + set.count() + " images");
            int top = (h / 2) * w * c;
            int[][] prompts = new int[samples][];
            for (int i = 0; i < samples; i++)
                prompts[i] = Tokenizer.IMAGE.encode(Arrays.copyOf(set.pixels().get(i), top));
            int[][] gen = generateImages(model, prompts, dims - top, sampler, r);
            for (int i = 0; i < samples; i++) {
                int[] original = new int[dims], done = new int[dims];
                byte[] px = set.pixels().get(i);
                for (int j = 0; j < dims; j++) original[j] = px[j] & 0xff;
                for (int j = 0; j < top; j++) done[j] = original[j];
                for (int j = 0; j < gen[i].length; j++) done[top + j] = Tokenizer.IMAGE.value(gen[i][j]);
                grid.add(original);
                grid.add(done);
            }
            columns = 2 * Math.min(4, samples);
            made = samples * (dims - top);
        } else {
            int[][] gen = generateImages(model, new int[samples][0], dims, sampler, r);
            for (int[] g : gen) {
                int[] img = new int[dims];
                for (int j = 0; j < dims; j++) img[j] = Tokenizer.IMAGE.value(g[j]);
                grid.add(img);
            }
            columns = (int) Math.ceil(Math.sqrt(samples));
            made = samples * dims;
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        Images.writeGrid(outPng, grid, h, w, c, columns, Math.max(1, 96 / Math.max(h, w)));
        out.printf(Locale.ROOT, "%d %s of %s -> %s%n", samples, complete != null ? "completions (beside the originals)"
                : "samples", Images.shape(shape), outPng);
        err.printf(Locale.ROOT, "%d pixels in %.2f s (%.1f tokens/s, %d sequences decoded together)%n", made, sec,
                made / sec, samples);
        return 0;
    }

    private int[][] generateImages(PerformerModel model, int[][] prompts, int rest, Sampler sampler,
                                   SplittableRandom[] r) {
        int tokens = n != null ? Math.min(n, rest) : rest;
        if (tokens < rest)
            throw new UsageException("generate: --tokens " + n + " is less than the " + rest + " pixels an image "
                    + "needs; leave it out");
        try {
            return model.generate(prompts, tokens, sampler, r);
        } catch (IllegalArgumentException e) {
            throw new UsageException("generate: " + e.getMessage());
        }
    }

    /** The image shape saved at training (image.shape HxWxC), or a square grey image of maxLen pixels. */
    static int[] imageShape(Checkpoint.Loaded ld) {
        String s = ld.metadata().get(TrainCommand.IMAGE_SHAPE);
        if (s != null && s.matches("\\d+x\\d+x\\d+")) {
            String[] p = s.split("x");
            return new int[]{Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
        }
        int l = ld.model().config().maxLen(), side = (int) Math.round(Math.sqrt(l));
        if (side * side != l)
            throw new UsageException("generate: the checkpoint records no image shape and its maxLen " + l
                    + " is not a square");
        return new int[]{side, side, 1};
    }
}
