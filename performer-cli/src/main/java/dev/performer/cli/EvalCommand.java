package dev.performer.cli;

import dev.performer.attention.AttentionSpec;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.model.PerformerModel;
import dev.performer.train.Batching;
import dev.performer.train.Checkpoint;
import dev.performer.train.Metrics;
import dev.performer.train.TrainConfig;
import dev.performer.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer eval}: loss, accuracy, perplexity (and bits per dimension or byte) of a checkpoint on data. */
@Command(name = "eval", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "loss, accuracy and perplexity of a checkpoint on a FASTA file, images or bytes",
        description = "Evaluates a checkpoint (a .safetensors file, or a run folder: its latest checkpoint) on every "
                + "record of --data (FASTA, images or bytes: the kind the model was trained on) with the model's "
                + "own objective (masked LM for bidirectional models, 15%% "
                + "masking with a fixed seed; next-token LM for causal ones). Prints loss (nats per target), accuracy "
                + "and perplexity, and for image and byte models bits per dimension (per byte); with --json one "
                + "JSON object with the keys loss, accuracy, perplexity, targets (and bits_per_dim or bits_per_byte). "
                + "L, batch and layout default to the checkpoint's training settings. With --attention the same "
                + "weights are evaluated under another attention (a trained exact model under FAVOR+, zero-shot).",
        footerHeading = "%nexamples:%n",
        footer = {"  performer eval --checkpoint runs/train-favor-softmax-bidir --data heldout.fasta --json",
            "  performer eval --checkpoint runs/train-exact-bidir --attention favor-softmax --features 256 "
                + "--data heldout.fasta"})
final class EvalCommand extends Options.Command {

    @Mixin
    Options.CheckpointOption checkpoint;

    @Option(names = "--data", paramLabel = "FILE", required = true,
            description = "FASTA file (plain or .gz), IDX images or a folder of PNG files, or any file (byte models)")
    Path data;

    @Mixin Options.DataKindOption kind;

    @Option(names = "--limit", paramLabel = "N", converter = Options.AtLeast1.class,
            description = "evaluate the first N records only (default: all)")
    Integer limit;

    @Option(names = "--json", description = "print one JSON object: loss, accuracy, perplexity, targets")
    boolean json;

    @Option(names = "--L", paramLabel = "N", converter = Options.AtLeast3.class,
            description = "sequence length (default: the checkpoint's training L)")
    Integer length;

    @Option(names = "--batch", paramLabel = "N", converter = Options.AtLeast1.class,
            description = "sequences per batch (default: the checkpoint's training batch)")
    Integer batch;

    @Option(names = "--layout", paramLabel = "LAYOUT", converter = Options.Layouts.class,
            completionCandidates = Options.Layouts.class,
            description = "${COMPLETION-CANDIDATES} (default: the checkpoint's training layout)")
    String layoutName;

    @Option(names = "--attention", paramLabel = "KIND", converter = Options.WeightlessAttentions.class,
            completionCandidates = Options.WeightlessAttentions.class,
            description = "evaluate the checkpoint's weights under another attention: ${COMPLETION-CANDIDATES} "
                    + "(default: the checkpoint's own)")
    String attention;

    @Option(names = "--features", paramLabel = "M", defaultValue = "64", converter = Options.AtLeast1.class,
            description = "with --attention favor-*: random features M (default ${DEFAULT-VALUE})")
    int features;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", converter = Options.Whole.class,
            description = "with --attention favor-*: seed of the random features (default ${DEFAULT-VALUE})")
    long seed;

    @Mixin Options.UnknownOption unknown;

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() throws IOException {
        Cli.inputPath("eval", "--data", data, true);
        try (Kernels kern = kernels.kernels()) {
            Checkpoint.Loaded ld = checkpoint.load("eval", kern);
            // defaults: the batches the model was trained on
            Batching trained = ld.training().map(TrainConfig::batching)
                    .orElse(new Batching(8, Math.min(256, ld.model().config().maxLen()), SequenceData.Layout.PAD));
            int l = length != null ? length : trained.length();
            if (l > ld.model().config().maxLen())
                throw new UsageException("eval: --L " + l + " exceeds the model's maxLen " + ld.model().config()
                        .maxLen());
            int b = batch != null ? batch : trained.size();
            SequenceData.Layout layout = layoutName == null ? trained.layout()
                    : layoutName.equals("concat") ? SequenceData.Layout.CONCAT : SequenceData.Layout.PAD;
            Tokenizer.Unknown policy = unknown.policy();
            Tokenizer tk = kind.resolve("eval", List.of(data), ld.model().config().tokenizer(), null, err);
            SequenceData d = new SequenceData(tk);
            Options.read("eval", List.of(data), policy, d, null, 0, 0, json ? null : err);
            if (limit != null) d = d.head(limit);
            if (d.size() == 0) throw new UsageException("eval: no usable sequences in " + data);
            PerformerModel model = ld.model();
            if (attention != null) {   // the same weights under another attention (zero-shot)
                model = new PerformerModel(model.config().toBuilder().attention(AttentionSpec.of(attention, features))
                        .build(), kern, seed);
                model.copyWeightsFrom(ld.model());
            }
            Metrics m = Trainer.evaluate(model, d, new Batching(b, l, layout), 0);
            if (json)
                out.printf(Locale.ROOT,
                        "{\"loss\": %.6f, \"accuracy\": %.6f, \"perplexity\": %.6f, \"targets\": %d%s}%n",
                        m.loss(), m.accuracy(), m.perplexity(), m.targets(), tk == Tokenizer.PROTEIN ? ""
                                : String.format(Locale.ROOT, ", \"bits_per_%s\": %.6f", tk.unit(), m.bits()));
            else
                out.printf(Locale.ROOT,
                        "%s on %s (%d sequences, %d targets): loss %.4f, accuracy %.4f, perplexity %.3f%s%n",
                        checkpoint + (attention != null ? " under " + attention : ""), data, d.size(), m.targets(),
                        m.loss(), m.accuracy(), m.perplexity(), TrainCommand.bitsNote(tk, m));
        }
        return 0;
    }
}
