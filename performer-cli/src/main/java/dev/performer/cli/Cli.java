package dev.performer.cli;

import dev.performer.kernel.Backend;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import java.util.Arrays;
import java.util.Locale;

/** Helpers shared by the commands. */
final class Cli {

    private Cli() {}

    /** The kernel backend from --backend (default vector) and --threads (default: all cores). */
    static Kernels kernels(Args a) {
        String name = a.choice("backend", "vector", java.util.Set.of("scalar", "vector", "openblas"));
        int threads = a.integer("threads", Runtime.getRuntime().availableProcessors(), 1);
        try {
            return Kernels.create(Backend.of(name), threads);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /**
     * The checkpoint named by --checkpoint (a .safetensors file, or a run folder: its latest
     * checkpoint), loaded; missing or unreadable files are usage errors naming the path.
     */
    static dev.performer.train.Checkpoint.Loaded loadCheckpoint(Args a, String command, Kernels kern) throws java.io.IOException {
        java.nio.file.Path ck = java.nio.file.Path.of(a.required("checkpoint"));
        if (java.nio.file.Files.isDirectory(ck))
            ck = dev.performer.train.Checkpoint.latest(ck).orElseThrow(() -> new UsageException(command + ": no checkpoint in " + a.str("checkpoint", "")));
        if (!java.nio.file.Files.exists(ck)) throw new UsageException(command + ": " + ck + ": no such file");
        try {
            return dev.performer.train.Checkpoint.load(ck, kern);
        } catch (java.io.IOException e) {
            throw new UsageException(command + ": " + e.getMessage());
        }
    }

    static double fmaPeak(int threads) {
        VectorKernels.measureFmaPeak(threads, 300); // warm-up: JIT and clocks
        return VectorKernels.measureFmaPeak(threads, 1500);
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    static String fmt(double x) { return String.format(Locale.ROOT, "%.4g", x); }
}
