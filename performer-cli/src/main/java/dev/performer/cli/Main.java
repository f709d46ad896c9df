package dev.performer.cli;

import dev.performer.data.DataFormatException;
import dev.performer.io.Npy;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/** Entry point: {@code performer <command> [options]}. */
public final class Main {

    static final String VERSION = "performer 0.1.0-SNAPSHOT";

    /** {@code performer}: the commands. */
    @Command(name = "performer", mixinStandardHelpOptions = true, version = VERSION,
            synopsisHeading = "usage: ", customSynopsis = "performer <command> [options]      "
                    + "(performer <command> --help for details)",
            header = "performer: Performers (FAVOR+ attention) on the JVM%n",
            commandListHeading = "%ncommands:%n", optionListHeading = "%noptions:%n",
            subcommands = {DemoCommand.class, TrainCommand.class, EvalCommand.class, GenerateCommand.class,
                EmbedCommand.class, ScoreCommand.class, PlotRunsCommand.class, AttentionCommand.class,
                BenchCommand.class,
                BenchCommand.Point.class, ApproxCommand.class, InfoCommand.class, HelpCommand.class},
            footerHeading = "%nexamples:%n",
            footer = {
                "  performer demo",
                "  performer train",
                "  performer eval --checkpoint runs/train-favor-softmax-bidir --data heldout.fasta --json",
                "  performer attention --q q.npy --k k.npy --v v.npy --features 256 --seed 1 --causal --out result",
                "  performer bench --scope layer --methods exact,favor-softmax,identity --L 1024,4096 --out "
                        + "results/bench",
                "  performer info --peak",
                "",
                "exit codes: 0 success, 2 usage or input error (one line on stderr), 1 internal error"})
    static final class Performer implements Callable<Integer> {
        @Spec CommandSpec spec;
        PrintStream err = System.err;

        /** No command: the usage, exit code 2. */
        @Override public Integer call() {
            err.print(spec.commandLine().getUsageMessage());
            return 2;
        }
    }

    private Main() {}

    public static void main(String[] argv) {
        int code = run(argv, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    /** The command line, printing to out and err. */
    static CommandLine commandLine(PrintStream out, PrintStream err) {
        Performer top = new Performer();
        top.err = err;
        return configure(new CommandLine(top), out, err);
    }

    /**
     * The CLI's conventions on a command line: output streams (also for each {@link Options.Command}
     * subcommand), help width, one-line errors with exit code 2 for usage and input errors, 1 with
     * the stack trace for internal ones.
     */
    static CommandLine configure(CommandLine cl, PrintStream out, PrintStream err) {
        for (CommandLine sub : cl.getSubcommands().values())
            if (sub.getCommand() instanceof Options.Command c) { c.out = out; c.err = err; }
        cl.setOut(new PrintWriter(out, true, charset(out)));
        cl.setErr(new PrintWriter(err, true, charset(err)));
        cl.setUsageHelpWidth(120);
        cl.setParameterExceptionHandler((ex, args) -> {
            err.println("error: " + message(ex));
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            String user = userError(ex);
            if (user != null) {
                err.println("error: " + user);
                return 2;
            }
            err.println("internal error: " + ex);
            ex.printStackTrace(err);
            return 1;
        });
        return cl;
    }

    /**
     * The one-line message of a user's mistake or of the environment's fault, or null for a bug:
     * bad options or input (IllegalArgumentException: validation inside the library of what the
     * user passed), a full disk, a read-only or vanished file system.
     */
    static String userError(Throwable ex) {
        if (ex instanceof UsageException || ex instanceof Npy.FormatException || ex instanceof DataFormatException
                || ex instanceof IllegalArgumentException)
            return ex.getMessage();
        return environmentFault(ex);
    }

    /** A one-line description of an I/O failure the environment caused, or null for anything else. */
    static String environmentFault(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof java.nio.file.FileSystemException f && f.getReason() != null)
                return f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + f.getReason();
            if (t instanceof java.io.IOException && t.getMessage() != null && t.getMessage()
                    .matches("(?i).*(no space left|read-only file system|disk quota|input/output error).*"))
                return t.getMessage();
        }
        return null;
    }

    /** Runs one command line as {@code performer ARGS} would, printing to out and err; returns the exit code. */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        try {
            return commandLine(out, err).execute(argv);
        } catch (OutOfMemoryError e) {
            err.println("error: out of memory (" + e.getMessage()
                    + "); give the JVM more heap with PERFORMER_JAVA_OPTS=-Xmx16g "
                    + "or use a smaller size");
            return 2;
        }
    }

    /**
     * One line naming the culprit: picocli's "Invalid value for option '--x': must be ..." as "--x must be ...",
     * "Missing required option: '--x=&lt;x&gt;'" as "--x is required", an unknown command as such; then where to look.
     */
    static String message(ParameterException ex) {
        CommandLine c = ex.getCommandLine();
        // an unknown option is the first culprit, before any required option it hid
        List<String> unmatched = ex instanceof UnmatchedArgumentException u ? u.getUnmatched()
                : c.getUnmatchedArguments();
        String hint = c.getCommandSpec().parent() == null ? "; see performer --help"
                : "; see performer " + c.getCommandName() + " --help";
        if (!unmatched.isEmpty()) {
            String first = unmatched.get(0);
            if (c.getCommandSpec().parent() == null && !first.startsWith("-"))
                return "unknown command '" + first + "' (expected " + String.join(", ", commandNames(c)) + ")";
            if (first.startsWith("-")) return "unknown option " + first.split("=", 2)[0] + hint;
            return "unexpected argument '" + first + "'" + hint;
        }
        String m = ex.getMessage().strip()
                .replaceFirst("^Invalid value for option '(--?[^']+)': ", "$1 ")
                .replaceFirst("^Missing required option: '(--?[^=']+)[^']*'$", "$1 is required");
        return m + hint;

    }

    private static List<String> commandNames(CommandLine c) {
        return c.getSubcommands().values().stream().filter(s -> !s.getCommandSpec().usageMessage().hidden())
                .map(CommandLine::getCommandName).toList();
    }

    private static Charset charset(PrintStream s) { return s.charset(); }
}
