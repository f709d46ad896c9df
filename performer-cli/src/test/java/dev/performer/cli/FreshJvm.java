package dev.performer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The command line in a fresh JVM (as a user runs it): exit code, standard output and standard error. */
final class FreshJvm {

    private FreshJvm() {}

    record Proc(int code, String out, String err) {}

    static ProcessBuilder command(List<String> args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd);
    }

    /** Runs the command to its end (at most 2 minutes); its output goes through files in tmp. */
    static Proc run(Path tmp, List<String> args) throws IOException, InterruptedException {
        Path o = Files.createTempFile(tmp, "out", ".txt"), e = Files.createTempFile(tmp, "err", ".txt");
        Process p = command(args).redirectOutput(o.toFile()).redirectError(e.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "finished within 2 minutes: " + args);
        String err = Files.readString(e, StandardCharsets.UTF_8).lines()
                .filter(l -> !l.contains("Using incubator modules")).reduce("", (a, b) -> a + b + "\n");
        return new Proc(p.exitValue(), Files.readString(o, StandardCharsets.UTF_8), err);
    }

    /** The tests' FASTA file: 40 records of 13, 26 or 39 residues, ids S0..S39. */
    static Path writeFasta(Path file) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 40; i++) sb.append(">S").append(i).append('\n').append("MKVLAAGWYHHPQ".repeat(1 + i % 3))
                .append('\n');
        return Files.writeString(file, sb.toString());
    }

    /** The tiny model the fault tests train: well under a second per step. */
    static final List<String> TINY = List.of("--L", "32", "--batch", "2", "--layers", "1", "--width", "16", "--heads",
            "2", "--ffn", "32", "--features", "8", "--threads", "1");

    /** A user mistake: exit code 2, a message naming every part, at most two lines, no stack trace. */
    static void assertUserError(Proc p, String... parts) {
        assertEquals(2, p.code(), "exit code 2: " + p.err());
        for (String s : parts) assertTrue(p.err().contains(s), "message names '" + s + "': " + p.err());
        assertFalse(p.err().contains("\tat "), "no stack trace: " + p.err());
        assertTrue(p.err().strip().lines().filter(l -> !l.startsWith("train ")).count() <= 2, "two lines at most: "
                + p.err());
    }
}
