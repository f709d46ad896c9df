package dev.performer.cli;

import dev.performer.model.Score;
import dev.performer.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * The command line's pieces for other modules that add commands of their own (performer-spark's
 * {@code performer spark ...}): the CLI's commands to mount under another top command, and its
 * conventions (one-line errors, exit code 2 for a user's mistake, help width).
 */
public final class Commands {

    private Commands() {}

    /**
     * {@code performer train} with every option of its own, its steps computed by the engine that
     * {@code engine} supplies once the options are parsed (the caller may add options of its own
     * to the command as a picocli mixin, and read them in the supplier).
     */
    public static CommandLine train(Supplier<Trainer.Engine> engine) {
        TrainCommand c = new TrainCommand();
        c.engine = engine;
        return new CommandLine(c);
    }

    /** A command line with the CLI's output streams, help width and error handling. */
    public static CommandLine configure(CommandLine cl, PrintStream out, PrintStream err) {
        return Main.configure(cl, out, err);
    }

    /** The one-line message for an exception that is a user's mistake or the environment's fault, or null. */
    public static String userError(Throwable ex) { return Main.userError(ex); }

    /** The header of {@code performer score}'s TSV. */
    public static String scoreHeader() { return ScoreCommand.HEADER; }

    /** One line of {@code performer score}'s TSV. */
    public static String scoreLine(String id, Score s) { return ScoreCommand.line(id, s); }

    /**
     * Writes embeddings as {@code performer embed} does: (ids.size(), width) float32 to npy, the ids
     * to FILE.ids.txt beside it, never leaving new embeddings beside old ids; returns the ids file.
     */
    public static Path writeEmbeddings(Path npy, List<String> ids, int width, float[] emb) throws IOException {
        return EmbedCommand.write(npy, ids, width, emb);
    }
}
