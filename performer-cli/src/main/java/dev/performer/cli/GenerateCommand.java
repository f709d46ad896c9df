package dev.performer.cli;

import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.model.PerformerModel;
import dev.performer.model.Positions;
import dev.performer.model.Sampler;
import dev.performer.random.Seeds;
import dev.performer.train.Checkpoint;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer generate}: sample continuations of a protein prompt from a causal model. */
@Command(name = "generate", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "sample continuations of a protein prompt (causal models, O(1)-state FAVOR+ decoding)",
        description = "Feeds <bos> and the prompt's residues to a causal model one token at a time and samples N more "
                + "tokens (stopping early at <eos>), with temperature, top-k (0 = off) and nucleus top-p (1 = off) "
                + "sampling; sample i draws from its own stream of --seed (the same whatever --samples). The "
                + "--samples sequences are decoded together, one batched step per token. --ignore-eos keeps going "
                + "past <eos> (for timing). FAVOR+ models decode with the recurrent form: O(M·D) state per head, so "
                + "each new token costs the same however long the prefix. Prints each sample, then the decoding "
                + "speed over all samples and the attention state size.",
        footerHeading = "%nexample:%n",
        footer = "  performer generate --checkpoint runs/causal --prompt MKVLAAG --tokens 60 --top-k 10")
final class GenerateCommand extends Options.Command {

    @Mixin
    Options.CheckpointOption checkpoint;

    @Option(names = "--prompt", paramLabel = "SEQ", required = true, description = "amino-acid letters to continue")
    String prompt;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "50", converter = Options.AtLeast1.class,
            description = "tokens to sample (default ${DEFAULT-VALUE})")
    int n;

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

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() throws IOException {
        int bad = Tokenizer.PROTEIN.firstUnknown(prompt);
        if (bad >= 0)
            throw new UsageException("generate: --prompt has '" + prompt.charAt(bad) + "' at " + (bad + 1)
                    + ", not an amino-acid letter");
        Sampler sampler;
        try {
            sampler = new Sampler(temp, topK, topP);
        } catch (IllegalArgumentException e) {
            throw new UsageException("generate: " + e.getMessage());
        }
        try (Kernels kern = kernels.kernels()) {
            Checkpoint.Loaded ld = checkpoint.load("generate", kern);
            PerformerModel model = ld.model();
            if (!model.config().causal())
                throw new UsageException("generate: " + checkpoint
                        + " is a bidirectional (masked LM) model; generation needs a causal one");
            int[] ptoks = Tokenizer.PROTEIN.encode(prompt, Tokenizer.Unknown.MAP_TO_X);
            int vocab = model.config().vocab(), maxLen = model.config().maxLen();
            if (model.config().positions() == Positions.LEARNED && 1 + ptoks.length + n > maxLen)
                throw new UsageException("generate: <bos>, the prompt's " + ptoks.length + " residues and --tokens "
                        + n + " need " + (1 + ptoks.length + n) + " positions; this model's learned positions end at "
                        + maxLen);
            SplittableRandom[] r = new SplittableRandom[samples];   // sample i: its own stream, whatever N
            for (int i = 0; i < samples; i++) r[i] = new SplittableRandom(Seeds.nth(seed, i));
            PerformerModel.BatchDecoder dec = model.decoder(samples);
            int[] in = new int[samples];
            Arrays.fill(in, Tokenizer.BOS);
            float[] p = dec.step(in);
            for (int t : ptoks) {
                Arrays.fill(in, t);
                p = dec.step(in);
            }
            StringBuilder[] sb = new StringBuilder[samples];
            int[] made = new int[samples];
            boolean[] done = new boolean[samples];
            for (int i = 0; i < samples; i++) sb[i] = new StringBuilder();
            float[] row = new float[vocab];
            int active = samples;
            long t0 = System.nanoTime(), steps = 0;
            for (int k = 0; k < n && active > 0; k++) {
                for (int i = 0; i < samples; i++) {
                    if (done[i]) { in[i] = Tokenizer.EOS; continue; }  // finished: kept in the batch, ignored
                    System.arraycopy(p, i * vocab, row, 0, vocab);
                    int next = sampler.sample(row, r[i]);
                    made[i]++;
                    in[i] = next;
                    if (next == Tokenizer.EOS && !ignoreEos) { sb[i].append("<eos>"); done[i] = true; active--; }
                    else sb[i].append(next >= Tokenizer.FIRST_SYMBOL ? Tokenizer.PROTEIN.decode(next) : "");
                }
                if (active > 0) { p = dec.step(in); steps++; }
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            long total = 0;
            for (int i = 0; i < samples; i++) {
                out.printf(Locale.ROOT, "%s|%s%n", prompt, sb[i]);
                total += made[i];
            }
            err.printf(Locale.ROOT, "%d sample%s: %d tokens in %.2f s (%.1f tokens/s; %d batched steps of %d), "
                            + "attention state %,d floats at position %d%n",
                    samples, samples == 1 ? "" : "s", total, sec, total / sec, steps, samples, dec.stateFloats(),
                    dec.position());
        }
        return 0;
    }
}
