package dev.performer.cli;

import dev.performer.kernel.Kernels;
import dev.performer.kernel.VectorKernels;
import dev.performer.train.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.Arrays;
import java.util.Locale;

/** Helpers shared by the commands. */
final class Cli {

    private Cli() {}

    /**
     * The checkpoint named by --checkpoint (a .safetensors file, or a run folder: its latest
     * checkpoint), loaded; missing or unreadable files are usage errors naming the path.
     */
    static Checkpoint.Loaded loadCheckpoint(String checkpoint, String command, Kernels kern) throws IOException {
        Path ck = Path.of(checkpoint);
        if (Files.isDirectory(ck))
            ck = Checkpoint.latest(ck)
                    .orElseThrow(() -> new UsageException(command + ": no checkpoint in " + checkpoint));
        if (!Files.exists(ck)) throw new UsageException(command + ": " + ck + ": no such file");
        try {
            return Checkpoint.load(ck, kern);
        } catch (IOException e) {
            throw new UsageException(command + ": " + e.getMessage());
        }
    }

    /**
     * An input file named by an option, checked before any work: missing, a folder or unreadable is a
     * usage error naming the option and the path.
     */
    /**
     * An input file, or with folders allowed a file or a folder of PNG images; as {@link #inputFile}
     * (a folder without .png files is "a folder, not a file").
     */
    static Path inputPath(String command, String option, Path p, boolean folders) {
        if (folders && Files.isDirectory(p) && hasPng(p)) {
            if (!Files.isReadable(p)) throw new UsageException(command + ": " + option + " " + p
                    + ": permission denied");
            return p;
        }
        return inputFile(command, option, p);
    }

    private static boolean hasPng(Path folder) {
        try (java.util.stream.Stream<Path> s = Files.list(folder)) {
            return s.anyMatch(f -> f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"));
        } catch (IOException e) {
            return true;   // unreadable: let the reader name the fault
        }
    }

    static Path inputFile(String command, String option, Path p) {
        if (!Files.exists(p)) throw new UsageException(command + ": " + option + " " + p + ": no such file");
        if (Files.isDirectory(p)) throw new UsageException(command + ": " + option + " " + p + " is a folder, not a "
                + "file");
        if (!Files.isReadable(p)) throw new UsageException(command + ": " + option + " " + p + ": permission denied");
        return p;
    }

    /**
     * An output folder, made ready before any work (so that nothing computed is lost for want of a
     * place to write it): a path that is a file, or a folder that cannot be created or written, is a
     * usage error naming the option and the path.
     */
    static Path outputFolder(String command, String option, Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir))
            throw new UsageException(command + ": " + option + " " + dir + " is a file; name a folder");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UsageException(command + ": " + option + " " + dir + ": cannot create the folder ("
                    + e.getMessage() + ")");
        }
        if (!Files.isWritable(dir)) throw new UsageException(command + ": " + option + " " + dir + " is not writable");
        return dir;
    }

    /** An output file, checked before any work: a folder at its path, or a folder for it that cannot be made. */
    static Path outputFile(String command, String option, Path file) {
        if (Files.isDirectory(file)) throw new UsageException(command + ": " + option + " " + file + " is a folder");
        outputFolder(command, option, file.toAbsolutePath().getParent());
        return file;
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
