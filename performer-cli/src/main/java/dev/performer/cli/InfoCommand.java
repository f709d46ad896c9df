package dev.performer.cli;

import dev.performer.kernel.Kernels;
import java.io.PrintStream;
import java.util.Set;

/** {@code performer info}: JDK, vector species, threads, backend, OpenBLAS. */
final class InfoCommand {

    static final String HELP = """
            usage: performer info [--backend scalar|vector|openblas] [--threads N] [--peak]

            Prints the machine, the JDK, the kernel backend (vector species, threads) and whether
            OpenBLAS was found. --peak also measures the vector FMA peak (about 2 s).

            example: performer info --peak
            """;

    private InfoCommand() {}

    static int run(String[] argv, PrintStream out) {
        Args a = Args.parse("info", argv, Set.of("backend", "threads"), Set.of("peak"));
        try (Kernels kern = Cli.kernels(a)) {
            Machine.describe(kern).forEach((k, v) -> out.printf("%-12s %s%n", k + ":", v));
            if (a.has("peak")) out.printf("%-12s %.1f GFLOP/s on %d threads (float32 FMA, measured)%n", "fma_peak:",
                    Cli.fmaPeak(kern.threads()), kern.threads());
        }
        return 0;
    }
}
