package dev.performer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.performer.cli.FreshJvm.assertUserError;

import dev.performer.kernel.Kernels;
import dev.performer.kernel.ScalarKernels;
import dev.performer.train.Checkpoint;
import dev.performer.train.TrainingLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults around run folders, through the real command line in a fresh JVM each: a second run into a
 * used folder, two trainers on one folder, a damaged newest checkpoint, a finished run resumed, data
 * changed on resume, divergence, kill -9 while checkpoints are written, stale temporary files. Each
 * checks the exit code, the message (names the culprit, one line, no stack trace) and the files left.
 */
class RunFolderFaultTest {

    @TempDir
    Path tmp;

    Path fasta;

    static final List<String> TINY = FreshJvm.TINY;

    @BeforeEach
    void data() throws IOException {
        fasta = FreshJvm.writeFasta(tmp.resolve("p.fasta"));
    }

    static ProcessBuilder command(List<String> args) { return FreshJvm.command(args); }

    FreshJvm.Proc run(List<String> args) throws IOException, InterruptedException {
        return FreshJvm.run(tmp, args);
    }

    List<String> train(Path run, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data", fasta.toString(), "--run", run.toString()));
        a.addAll(TINY);
        a.addAll(List.of(extra));
        return a;
    }

    /** Every checkpoint in the folder loads (complete, finite), and the log parses. */
    static void assertIntact(Path run) throws IOException {
        try (Kernels kern = new ScalarKernels(); Stream<Path> s = Files.list(run)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith("checkpoint-")) Checkpoint.load(p, kern);
            }
        }
        TrainingLog.read(TrainingLog.of(run));
    }

    static List<Path> checkpoints(Path run) throws IOException {
        try (Stream<Path> s = Files.list(run)) {
            return s.filter(p -> p.getFileName().toString().startsWith("checkpoint-")).sorted().toList();
        }
    }

    @Test
    void aFreshRunIntoAUsedFolderIsRefusedAndTheOldRunKept() throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, run(train(run, "--steps", "4", "--checkpoint-every", "2")).code());
        byte[] before = Files.readAllBytes(run.resolve("checkpoint-0000004.safetensors"));
        FreshJvm.Proc p = run(train(run, "--steps", "6", "--seed", "5"));
        assertUserError(p, run.toString(), "already holds a run", "2 checkpoints", "--resume");
        assertArrayEquals(before, Files.readAllBytes(run.resolve("checkpoint-0000004.safetensors")));
        assertEquals(2, checkpoints(run).size(), "no checkpoint of another run beside the old ones");
        // a log without checkpoints (a run killed before its first one) is a run too
        Path logOnly = tmp.resolve("log-only");
        Files.createDirectories(logOnly);
        Files.copy(run.resolve("log.csv"), logOnly.resolve("log.csv"));
        assertUserError(run(train(logOnly, "--steps", "2")), "already holds a run (log.csv)");
        // a run folder that is a file
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        assertUserError(run(train(file, "--steps", "2")), file + " is a file, not a run folder");
    }

    @Test
    void aSecondTrainerOnTheSameFolderIsRefusedNamingTheFirst() throws Exception {
        Path run = tmp.resolve("run");
        Path o = tmp.resolve("first.out");
        Process first = command(train(run, "--steps", "100000", "--eval-every", "0", "--checkpoint-every", "0"))
                .redirectOutput(o.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            // wait until the first trainer is stepping (its log has a training row)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && !(Files.exists(run.resolve("log.csv"))
                    && Files.readAllLines(run.resolve("log.csv")).size() > 1)) Thread.sleep(100);
            assertTrue(Files.readAllLines(run.resolve("log.csv")).size() > 1, "the first trainer started");
            FreshJvm.Proc second = run(train(run, "--steps", "3", "--resume"));
            assertUserError(second, run + " is in use by another training process (pid " + first.pid() + ")");
            assertTrue(first.isAlive(), "the first trainer runs on");
        } finally {
            first.destroyForcibly().waitFor();
        }
        // once the holder is gone (killed: the OS released its lock) the folder can be used again
        List<String> rows = Files.readAllLines(run.resolve("log.csv"));
        assertTrue(rows.stream().skip(1).allMatch(l -> l.split(",", -1).length == 9 || l.equals(rows.get(
                rows.size() - 1))), "rows are whole, but for a torn last one");
        Files.delete(run.resolve("log.csv"));
        assertEquals(0, run(train(run, "--steps", "2")).code());
    }

    @Test
    void resumingSkipsADamagedNewestCheckpointAndFinishedRunsAreLeftAlone() throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, run(train(run, "--steps", "4", "--checkpoint-every", "2")).code());
        Path last = run.resolve("checkpoint-0000004.safetensors");
        byte[] whole = Files.readAllBytes(last);
        Files.write(last, Arrays.copyOf(whole, whole.length / 2));   // truncated, as by a full disk
        // a stale temporary file of an interrupted write goes away when the folder is opened
        Path stale = run.resolve(".checkpoint-0000006.safetensors123.tmp");
        Files.writeString(stale, "half");
        FreshJvm.Proc p = run(train(run, "--steps", "6", "--checkpoint-every", "2", "--resume"));
        assertEquals(0, p.code(), p.err());
        assertTrue(p.err().contains("warning: skipping " + last), p.err());
        assertTrue(p.out().contains("resuming from " + run.resolve("checkpoint-0000002.safetensors") + " at step 2"),
                p.out());
        assertFalse(Files.exists(stale), "stale temporary file removed");
        assertIntact(run);   // the truncated checkpoint was written again when training passed step 4
        // the finished run resumed: nothing to do, no NaN
        FreshJvm.Proc again = run(train(run, "--steps", "6", "--checkpoint-every", "2", "--resume"));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("the run is finished (step 6 of --steps 6); nothing to do"), again.out());
        assertFalse(again.out().contains("NaN"), again.out());
        // other data on resume is refused
        Path other = tmp.resolve("other.fasta");
        Files.writeString(other, Files.readString(fasta).replace("MKVL", "MRVL"));
        List<String> a = train(run, "--steps", "8", "--resume");
        a.set(a.indexOf(fasta.toString()), other.toString());
        assertUserError(run(a), "was trained on", "pass the same --data");
        // no checkpoint loads at all
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("checkpoint-0000002.safetensors"), "not a checkpoint");
        assertUserError(run(train(broken, "--steps", "4", "--resume")), "no loadable checkpoint in " + broken);
    }

    @Test
    void divergenceStopsWithoutWritingNonFiniteWeights() throws Exception {
        Path run = tmp.resolve("run");
        // a learning rate of 1e30 overflows the weights within a step or two: loss or gradient norm turn non-finite
        FreshJvm.Proc p = run(train(run, "--steps", "20", "--lr", "1e30", "--warmup", "0", "--checkpoint-every", "1",
                "--eval-every", "0"));
        assertUserError(p, "training diverged at step ", "the step was not applied", "lower --lr");
        assertIntact(run);   // every checkpoint on disk loads: none holds NaN or infinite weights
    }

    /** Runs mount(8); false when this process may not (not root, or no mount privilege in this container). */
    static boolean mount(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("mount"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    static void umount(Path dir) throws IOException, InterruptedException {
        new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start().waitFor();
    }

    @Test
    void aFullOrReadOnlyDiskEndsWithAMessageAndIntactCheckpoints() throws Exception {
        Path disk = Files.createDirectories(tmp.resolve("small-disk"));
        // a 320 KB file system: room for a few checkpoints of the tiny model (about 60 KB each), then full
        Assumptions.assumeTrue(mount("-t", "tmpfs", "-o", "size=320k", "tmpfs", disk.toString()),
                "skipped: mounting a small tmpfs needs root and mount privileges (this process has neither)");
        try {
            Path run = disk.resolve("run");
            FreshJvm.Proc p = run(train(run, "--steps", "200", "--checkpoint-every", "1", "--eval-every", "0"));
            assertUserError(p, "cannot write to " + run, "No space left on device", "is intact", "--resume");
            assertIntact(run);   // what is on disk is whole: the checkpoints written before the disk filled up
            assertFalse(checkpoints(run).isEmpty(), "some checkpoints fit");
            try (Stream<Path> s = Files.list(run)) {
                assertTrue(s.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left");
            }
            // another command writing onto the full disk: one line, exit 2, nothing half-written left
            FreshJvm.Proc emb = run(List.of("embed", "--checkpoint", run.toString(), "--data", fasta.toString(),
                    "--out", disk.resolve("emb.npy").toString(), "--threads", "1"));
            assertUserError(emb, "No space left on device");
            assertFalse(Files.exists(disk.resolve("emb.npy")), "no partial embeddings");
            // read-only: refused at the start, before any work
            assertTrue(mount("-o", "remount,ro", disk.toString()), "remount read-only");
            FreshJvm.Proc ro = run(train(run, "--steps", "300", "--resume"));
            assertUserError(ro, "cannot write to the run folder " + run);
            assertIntact(run);
        } finally {
            umount(disk);
        }
    }

    @Test
    void killedWhileWritingCheckpointsLeavesOnlyWholeFiles() throws Exception {
        Path run = tmp.resolve("run");
        for (int round = 0; round < 3; round++) {
            List<String> a = train(run, "--steps", "100000", "--checkpoint-every", "1", "--eval-every", "0");
            if (round > 0) a.add("--resume");
            Process p = command(a).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int need = 3 * (round + 1);
            while (System.nanoTime() < deadline && (!Files.isDirectory(run) || checkpoints(run).size() < need))
                Thread.sleep(20);
            Thread.sleep(37L * (round + 1));   // somewhere inside a step or a checkpoint write
            p.destroyForcibly().waitFor();      // SIGKILL
            assertTrue(checkpoints(run).size() >= need, "round " + round + " wrote checkpoints");
            assertIntact(run);
        }
    }
}
