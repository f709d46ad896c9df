package dev.performer.cli;

import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import dev.performer.io.AtomicFiles;
import dev.performer.io.Npy;
import dev.performer.kernel.Kernels;
import dev.performer.model.PerformerModel;
import dev.performer.train.Checkpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer embed}: per-sequence mean-pooled embeddings as .npy, with the record ids. */
@Command(name = "embed", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "per-sequence mean-pooled embeddings of a FASTA file (or images, or files) as .npy, with the ids",
        description = "Runs every record of --data through the model (BOS, symbols, EOS; clipped to L, default "
                + "the checkpoint's training L; records are FASTA records, images (no EOS) or whole files for byte "
                + "models) and writes the mean over its tokens of the final LayerNorm output: a "
                + "float32 array (records, width) to FILE.npy, and the record ids, one per line in the same order, to "
                + "FILE.ids.txt. Padding never enters the mean. Written atomically.",
        footerHeading = "%nexample:%n",
        footer = "  performer embed --checkpoint runs/train-favor-softmax-bidir --data heldout.fasta --out emb.npy")
final class EmbedCommand extends Options.Command {

    @Mixin
    Options.CheckpointOption checkpoint;

    @Option(names = "--data", paramLabel = "FILE", required = true,
            description = "FASTA file (plain or .gz), IDX images or a folder of PNG files, or any file (byte models)")
    Path data;

    @Mixin Options.DataKindOption kind;

    @Option(names = "--out", paramLabel = "FILE.npy", required = true,
            description = "the embeddings; ids to FILE.ids.txt")
    Path outFile;

    @Option(names = "--L", paramLabel = "N", converter = Options.AtLeast3.class,
            description = "sequence length (default: the checkpoint's training L)")
    Integer length;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", converter = Options.AtLeast1.class,
            description = "sequences per batch (default ${DEFAULT-VALUE})")
    int b;

    @Mixin Options.UnknownOption unknown;

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() throws IOException {
        if (!outFile.getFileName().toString().endsWith(".npy"))
            throw new UsageException("embed: --out must name a .npy file, got " + outFile);
        Cli.outputFile("embed", "--out", outFile);
        Cli.inputPath("embed", "--data", data, true);
        Tokenizer.Unknown policy = unknown.policy();
        try (Kernels kern = kernels.kernels()) {
            Checkpoint.Loaded ld = checkpoint.load("embed", kern);
            PerformerModel model = ld.model();
            int l = length != null ? length : ld.training().map(t -> t.batching().length())
                    .orElse(model.config().maxLen());
            if (l > model.config().maxLen())
                throw new UsageException("embed: --L " + l + " exceeds the model's maxLen " + model.config().maxLen());
            int c = model.config().width();
            Tokenizer tk = kind.resolve("embed", List.of(data), model.config().tokenizer(), null, err);
            SequenceData d = new SequenceData(tk);
            Options.read("embed", List.of(data), policy, d, null, 0, 0, err);
            List<int[]> records = new ArrayList<>();
            for (int i = 0; i < d.size(); i++) records.add(d.sequence(i));
            float[] emb = model.embedRecords(records, b, l);
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < d.size(); i++) lines.add(d.id(i));
            Path ids = write(outFile, lines, c, emb);
            out.printf("%d embeddings of width %d -> %s, ids -> %s%n", d.size(), c, outFile, ids);
        }
        return 0;
    }

    /**
     * Embeddings (ids.size(), width) to npy and the ids, one per line, to FILE.ids.txt beside it;
     * returns the ids file. Both are written whole first; the old ids go before the new embeddings
     * arrive, so that an interruption leaves the old pair, embeddings without ids, or the new pair:
     * never embeddings beside other ids.
     */
    static Path write(Path npy, List<String> ids, int width, float[] emb) throws IOException {
        Path idFile = npy.resolveSibling(npy.getFileName().toString().replaceAll("\\.npy$", ".ids.txt"));
        Path tmpNpy = AtomicFiles.temporaryFor(npy), tmpIds = AtomicFiles.temporaryFor(idFile);
        try {
            Npy.writeFloat32(tmpNpy, new int[]{ids.size(), width}, emb);
            Files.write(tmpIds, ids, StandardCharsets.UTF_8);
            Files.deleteIfExists(idFile);
            AtomicFiles.publish(tmpNpy, npy);
            AtomicFiles.publish(tmpIds, idFile);
        } finally {
            Files.deleteIfExists(tmpNpy);
            Files.deleteIfExists(tmpIds);
        }
        return idFile;
    }
}
