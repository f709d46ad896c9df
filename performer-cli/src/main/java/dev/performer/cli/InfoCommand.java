package dev.performer.cli;

import dev.performer.kernel.Kernels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer info}: JDK, vector species, threads, backend, OpenBLAS. */
@Command(name = "info", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "machine, JDK, vector species, threads, kernel backend, OpenBLAS",
        description = "Prints the machine, the JDK, the kernel backend (vector species, threads) and whether OpenBLAS "
                + "was found. --peak also measures the vector FMA peak (about 2 s).",
        footerHeading = "%nexample:%n", footer = "  performer info --peak")
final class InfoCommand extends Options.Command {

    @Option(names = "--peak", description = "also measure the vector FMA peak (about 2 s)")
    boolean peak;

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() {
        try (Kernels kern = kernels.kernels()) {
            Machine.describe(kern).forEach((k, v) -> out.printf("%-12s %s%n", k + ":", v));
            if (peak) out.printf("%-12s %.1f GFLOP/s on %d threads (float32 FMA, measured)%n", "fma_peak:",
                    Cli.fmaPeak(kern.threads()), kern.threads());
        }
        return 0;
    }
}
