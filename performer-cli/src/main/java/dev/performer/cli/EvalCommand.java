package dev.performer.cli;

import dev.performer.data.ProteinData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.train.Batching;
import dev.performer.train.Checkpoint;
import dev.performer.train.Metrics;
import dev.performer.train.TrainConfig;
import dev.performer.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** {@code performer eval}: loss, accuracy and perplexity of a checkpoint on a FASTA file. */
final class EvalCommand {

    static final String HELP = """
            usage: performer eval --checkpoint PATH --data FILE [--json] [--L N] [--batch N] [--layout pad|concat]
                                  [--unknown x|skip] [--backend vector] [--threads N]

            Evaluates a checkpoint (a .safetensors file, or a run folder: its latest checkpoint) on every
            record of a FASTA file with the model's own objective (masked LM for bidirectional models,
            15% masking with a fixed seed; next-token LM for causal ones). Prints loss (nats per target),
            accuracy and perplexity; with --json one JSON object with the keys loss, accuracy,
            perplexity, targets. L, batch and layout default to the checkpoint's training settings.

            example: performer eval --checkpoint runs/train-favor-softmax-bidir --data heldout.fasta --json
            """;

    private EvalCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = Args.parse("eval", argv, Set.of("checkpoint", "data", "L", "batch", "layout", "unknown", "backend", "threads"), Set.of("json"));
        a.required("checkpoint");
        Path data = Path.of(a.required("data"));
        try (Kernels kern = Cli.kernels(a)) {
            Checkpoint.Loaded ld = Cli.loadCheckpoint(a, "eval", kern);
            // defaults: the batches the model was trained on
            Batching trained = ld.training().map(TrainConfig::batching)
                    .orElse(new Batching(8, Math.min(256, ld.model().config().maxLen()), ProteinData.Layout.PAD));
            int l = a.integer("L", trained.length(), 3);
            if (l > ld.model().config().maxLen()) throw new UsageException("eval: --L " + l + " exceeds the model's maxLen " + ld.model().config().maxLen());
            int b = a.integer("batch", trained.size(), 1);
            ProteinData.Layout layout = a.choice("layout", trained.layout().name().toLowerCase(Locale.ROOT), Set.of("pad", "concat"))
                    .equals("concat") ? ProteinData.Layout.CONCAT : ProteinData.Layout.PAD;
            Tokenizer.Unknown policy = a.choice("unknown", "x", Set.of("x", "skip")).equals("x") ? Tokenizer.Unknown.MAP_TO_X : Tokenizer.Unknown.SKIP_RECORD;
            ProteinData d = new ProteinData();
            ProteinData.readFiles(List.of(data), policy, d, null, 0, 0, a.has("json") ? null : err);
            if (d.size() == 0) throw new UsageException("eval: no usable sequences in " + data);
            Metrics m = Trainer.evaluate(ld.model(), d, new Batching(b, l, layout), 0);
            if (a.has("json"))
                out.printf(Locale.ROOT, "{\"loss\": %.6f, \"accuracy\": %.6f, \"perplexity\": %.6f, \"targets\": %d}%n", m.loss(), m.accuracy(), m.perplexity(), m.targets());
            else
                out.printf(Locale.ROOT, "%s on %s (%d sequences, %d targets): loss %.4f, accuracy %.4f, perplexity %.3f%n", a.str("checkpoint", ""), data, d.size(), m.targets(),
                        m.loss(), m.accuracy(), m.perplexity());
        }
        return 0;
    }
}
