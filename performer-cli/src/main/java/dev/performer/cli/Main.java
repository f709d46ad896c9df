package dev.performer.cli;

import dev.performer.io.Npy;
import java.io.PrintStream;
import java.util.Arrays;

/** Entry point: {@code performer <command> [options]}. */
public final class Main {

    static final String USAGE = """
            performer: Performers (FAVOR+ attention) on the JVM

            usage: performer <command> [options]      (performer <command> --help for details)

            commands:
              demo        exact vs FAVOR+ attention on random inputs: agreement and speed
              train       train a Performer language model on protein sequences (bundled sample by default)
              eval        loss, accuracy and perplexity of a checkpoint on a FASTA file
              generate    sample continuations of a protein prompt (causal models, O(1)-state FAVOR+ decoding)
              embed       per-sequence mean-pooled embeddings of a FASTA file as .npy, with the record ids
              plot-runs   one metric (validation loss, ...) of several training runs in one PNG
              attention   run an attention on .npy inputs, write out.npy (and gradients with --dout)
              bench       time GEMM or attention layers over L; CSV, JSON and PNG plots
              approx      approximation error of FAVOR+ features vs exact softmax attention; CSV, JSON, PNG
              info        machine, JDK, vector species, threads, kernel backend, OpenBLAS

            examples:
              performer demo
              performer train
              performer eval --checkpoint runs/train-favor-softmax-bidir --data heldout.fasta --json
              performer attention --q q.npy --k k.npy --v v.npy --features 256 --seed 1 --causal --out result
              performer bench --scope layer --methods exact,favor-softmax,identity --L 1024,4096 --out results/bench
              performer info --peak

            exit codes: 0 success, 2 usage or input error (one line on stderr), 1 internal error
            """;

    private Main() {}

    public static void main(String[] argv) {
        int code = run(argv, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0) {
            err.print(USAGE);
            return 2;
        }
        String cmd = argv[0];
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        if (cmd.equals("--help") || cmd.equals("-h") || cmd.equals("help")) {
            out.print(USAGE);
            return 0;
        }
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            String help = switch (cmd) {
                case "info" -> InfoCommand.HELP;
                case "demo" -> DemoCommand.HELP;
                case "attention" -> AttentionCommand.HELP;
                case "bench" -> BenchCommand.HELP;
                case "approx" -> ApproxCommand.HELP;
                case "train" -> TrainCommand.HELP;
                case "eval" -> EvalCommand.HELP;
                case "generate" -> GenerateCommand.HELP;
                case "embed" -> EmbedCommand.HELP;
                case "plot-runs" -> PlotRunsCommand.HELP;
                default -> null;
            };
            if (help != null) {
                out.print(help);
                return 0;
            }
        }
        try {
            return switch (cmd) {
                case "info" -> InfoCommand.run(rest, out);
                case "demo" -> DemoCommand.run(rest, out, err);
                case "attention" -> AttentionCommand.run(rest, out, err);
                case "bench" -> BenchCommand.run(rest, out, err);
                case "bench-point" -> BenchCommand.runPoint(rest, out);
                case "approx" -> ApproxCommand.run(rest, out, err);
                case "train" -> TrainCommand.run(rest, out, err);
                case "eval" -> EvalCommand.run(rest, out, err);
                case "generate" -> GenerateCommand.run(rest, out, err);
                case "embed" -> EmbedCommand.run(rest, out, err);
                case "plot-runs" -> PlotRunsCommand.run(rest, out, err);
                default -> throw new UsageException("unknown command '" + cmd + "' (expected demo, train, eval, generate, embed, attention, bench, approx or info)");
            };
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            return 2;
        } catch (Npy.FormatException | dev.performer.data.FastaReader.FormatException e) {
            err.println("error: " + e.getMessage());
            return 2;
        } catch (IllegalArgumentException e) {
            // validation inside the library (shapes, values) of what the user passed
            err.println("error: " + e.getMessage());
            return 2;
        } catch (OutOfMemoryError e) {
            err.println("error: out of memory (" + e.getMessage() + "); give the JVM more heap with PERFORMER_JAVA_OPTS=-Xmx16g or use a smaller size");
            return 2;
        } catch (Exception e) {
            err.println("internal error: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }
}
