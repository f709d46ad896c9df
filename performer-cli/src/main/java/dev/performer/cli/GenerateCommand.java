package dev.performer.cli;

import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.model.PerformerModel;
import dev.performer.model.Sampler;
import dev.performer.train.Checkpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/** {@code performer generate}: sample continuations of a protein prompt from a causal model. */
final class GenerateCommand {

    static final String HELP = """
            usage: performer generate --checkpoint PATH --prompt SEQ --tokens N [--temperature 1.0]
                                      [--top-k 0] [--top-p 1.0] [--seed 0] [--samples 1] [--ignore-eos]
                                      [--backend vector] [--threads N]

            Feeds <bos> and the prompt's residues to a causal model one token at a time and samples N
            more tokens (stopping early at <eos>), with temperature, top-k (0 = off) and nucleus top-p
            (1 = off) sampling from --seed. --ignore-eos keeps going past <eos> (for timing). FAVOR+ models decode with the recurrent form: O(M·D) state
            per head, so each new token costs the same however long the prefix. Prints each sample,
            the decoding speed and the attention state size.

            example: performer generate --checkpoint runs/causal --prompt MKVLAAG --tokens 60 --top-k 10
            """;

    private GenerateCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = Args.parse("generate", argv, Set.of("checkpoint", "prompt", "tokens", "temperature", "top-k", "top-p", "seed", "samples",
                "backend", "threads"), Set.of("ignore-eos"));
        a.required("checkpoint");
        String prompt = a.required("prompt");
        int bad = Tokenizer.firstUnknown(prompt);
        if (bad >= 0) throw new UsageException("generate: --prompt has '" + prompt.charAt(bad) + "' at " + (bad + 1) + ", not an amino-acid letter");
        int n = a.integer("tokens", 50, 1), samples = a.integer("samples", 1, 1), topK = a.integer("top-k", 0, 0);
        double temp = a.dbl("temperature", 1.0), topP = a.dbl("top-p", 1.0);
        Sampler sampler;
        try {
            sampler = new Sampler(temp, topK, topP);
        } catch (IllegalArgumentException e) {
            throw new UsageException("generate: " + e.getMessage());
        }
        SplittableRandom r = new SplittableRandom(a.longValue("seed", 0));
        try (Kernels kern = Cli.kernels(a)) {
            Checkpoint.Loaded ld = Cli.loadCheckpoint(a, "generate", kern);
            PerformerModel model = ld.model();
            if (!model.config().causal()) throw new UsageException("generate: " + a.str("checkpoint", "") + " is a bidirectional (masked LM) model; generation needs a causal one");
            int[] ptoks = Tokenizer.encode(prompt, Tokenizer.Unknown.MAP_TO_X);
            for (int sIdx = 0; sIdx < samples; sIdx++) {
                PerformerModel.Decoder dec = model.decoder();
                float[] p = dec.step(Tokenizer.BOS);
                for (int t : ptoks) p = dec.step(t);
                StringBuilder sb = new StringBuilder();
                long t0 = System.nanoTime();
                int made = 0;
                for (; made < n; made++) {
                    int next = sampler.sample(p, r);
                    if (next == Tokenizer.EOS && !a.has("ignore-eos")) { sb.append("<eos>"); made++; break; }
                    sb.append(next >= Tokenizer.FIRST_LETTER ? Tokenizer.decode(next) : "");
                    p = dec.step(next);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                out.printf(Locale.ROOT, "%s|%s%n", prompt, sb);
                err.printf(Locale.ROOT, "sample %d: %d tokens in %.2f s (%.1f tokens/s), attention state %,d floats at position %d%n",
                        sIdx + 1, made, sec, made / sec, dec.stateFloats(), dec.position());
            }
        }
        return 0;
    }
}
