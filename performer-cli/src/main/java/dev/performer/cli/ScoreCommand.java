package dev.performer.cli;

import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.io.AtomicFiles;
import dev.performer.kernel.Kernels;
import dev.performer.model.PerformerModel;
import dev.performer.model.Score;
import dev.performer.train.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer score}: per-record log-likelihood and perplexity as a TSV. */
@Command(name = "score", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "per-record log-likelihood and perplexity (pseudo-log-likelihood for masked models) as a TSV",
        description = "Scores every record of --data with the model. Causal models: log p(record) = the sum of "
                + "log p(token | the tokens before) over its symbols and the end marker (clipped to L, as training "
                + "lays records out). Bidirectional (masked) models: the pseudo-log-likelihood, the sum over its "
                + "symbols of log p(symbol | the record with that symbol masked), one forward per symbol. Writes "
                + "id, tokens, log_likelihood (nats), perplexity and bits per token, one record per line in the "
                + "input order, to --out (atomically) or the standard output.",
        footerHeading = "%nexample:%n",
        footer = "  performer score --checkpoint runs/train-favor-softmax-causal --data heldout.fasta --out scores.tsv")
final class ScoreCommand extends Options.Command {

    /** The TSV header. */
    static final String HEADER = "id\ttokens\tlog_likelihood\tperplexity\tbits_per_token";

    @Mixin Options.CheckpointOption checkpoint;

    @Option(names = "--data", paramLabel = "FILE", required = true,
            description = "FASTA file (plain or .gz), IDX images or a folder of PNG files, or any file (byte models)")
    Path data;

    @Mixin Options.DataKindOption kind;

    @Option(names = "--out", paramLabel = "FILE.tsv", description = "the scores (default: the standard output)")
    Path outFile;

    @Option(names = "--L", paramLabel = "N", converter = Options.AtLeast3.class,
            description = "sequence length (default: the checkpoint's training L)")
    Integer length;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", converter = Options.AtLeast1.class,
            description = "rows per forward (default ${DEFAULT-VALUE})")
    int b;

    @Mixin Options.UnknownOption unknown;

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() throws IOException {
        if (outFile != null) Cli.outputFile("score", "--out", outFile);
        Cli.inputPath("score", "--data", data, true);
        try (Kernels kern = kernels.kernels()) {
            Checkpoint.Loaded ld = checkpoint.load("score", kern);
            PerformerModel model = ld.model();
            int l = length != null ? length : ld.training().map(t -> t.batching().length())
                    .orElse(model.config().maxLen());
            if (l > model.config().maxLen())
                throw new UsageException("score: --L " + l + " exceeds the model's maxLen " + model.config().maxLen());
            Tokenizer tk = kind.resolve("score", List.of(data), model.config().tokenizer(), null, err);
            SequenceData d = new SequenceData(tk);
            Options.read("score", List.of(data), unknown.policy(), d, null, 0, 0, err);
            List<int[]> records = new ArrayList<>();
            for (int i = 0; i < d.size(); i++) records.add(d.sequence(i));
            Score[] scores = model.score(records, b, l);
            StringBuilder sb = new StringBuilder(HEADER).append('\n');
            for (int i = 0; i < scores.length; i++) sb.append(line(d.id(i), scores[i])).append('\n');
            if (outFile == null) {
                out.print(sb);
            } else {
                AtomicFiles.writeString(outFile, sb.toString());
                out.printf("%d scores (%s) -> %s%n", scores.length,
                        model.config().causal() ? "log-likelihood" : "pseudo-log-likelihood", outFile);
            }
        }
        return 0;
    }

    /** One TSV line: id, tokens, log-likelihood, perplexity, bits per token. */
    static String line(String id, Score s) {
        return String.format(Locale.ROOT, "%s\t%d\t%.6f\t%.6f\t%.6f", id, s.tokens(), s.logLikelihood(),
                s.perplexity(), s.bitsPerToken());
    }
}
