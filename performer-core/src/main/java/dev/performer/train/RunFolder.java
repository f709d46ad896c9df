package dev.performer.train;

import dev.performer.kernel.Kernels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A training run's folder, held by one process at a time: {@code .lock} (the holder's process id,
 * under an OS file lock that ends with the process, however it ends) keeps a second trainer out;
 * temporary files left by a killed write are removed on opening; checkpoints are listed by step,
 * and resuming falls back past a damaged newest one to the newest that loads.
 */
public final class RunFolder implements AutoCloseable {

    /** The folder is held by another process, or cannot be used as a run folder. */
    public static final class Unavailable extends IOException {
        public Unavailable(String message) { super(message); }
    }

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private RunFolder(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Opens (creating it if needed) and locks a run folder, then deletes the temporary files an
     * interrupted write left ({@code .*.tmp}).
     *
     * @throws Unavailable when the path is not a folder, or another process holds it (the message
     *     names the process)
     */
    public static RunFolder open(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir))
            throw new Unavailable(dir + " is a file, not a run folder");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new Unavailable("cannot create the run folder " + dir + " (" + e.getMessage() + ")");
        }
        Path lockFile = dir.resolve(".lock");
        FileChannel ch;
        try {
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new Unavailable("cannot write to the run folder " + dir + " (" + e.getMessage() + ")");
        }
        FileLock lk;
        try {
            lk = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lk = null;   // held by this very process (another trainer in the same JVM)
        }
        if (lk == null) {
            String holder = holder(ch);
            ch.close();
            throw new Unavailable(dir + " is in use by another training process" + (holder.isEmpty() ? ""
                    : " (pid " + holder + ")") + "; wait for it to finish or choose another run folder");
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        RunFolder rf = new RunFolder(dir, ch, lk);
        rf.removeTemporaryFiles();
        return rf;
    }

    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private void removeTemporaryFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") && n.endsWith(".tmp") && Files.isRegularFile(p)) Files.deleteIfExists(p);
            }
        }
    }

    public Path path() { return dir; }

    /** The checkpoints, oldest step first. */
    public List<Path> checkpoints() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Checkpoint.step(p) >= 0).sorted(Comparator.comparingInt(Checkpoint::step)).toList();
        }
    }

    /** Whether an earlier run left its record here: a log or a checkpoint. */
    public boolean holdsRun() throws IOException {
        return Files.exists(TrainingLog.of(dir)) || !checkpoints().isEmpty();
    }

    /**
     * The newest checkpoint that loads. A newer one that does not (truncated, damaged, non-finite
     * weights) is reported to warn with why, and skipped; it stays on disk for inspection and is
     * replaced when training passes its step again. Empty when no checkpoint loads.
     */
    public Optional<Found> latestLoadable(Kernels kern, Consumer<String> warn) throws IOException {
        List<Path> all = new ArrayList<>(checkpoints());
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                return Optional.of(new Found(all.get(i), Checkpoint.load(all.get(i), kern)));
            } catch (IOException | IllegalArgumentException e) {
                String why = String.valueOf(e.getMessage());
                warn.accept("skipping " + (why.startsWith(all.get(i).toString()) ? why : all.get(i) + ": " + why));
            }
        }
        return Optional.empty();
    }

    /** A checkpoint file and what it holds. */
    public record Found(Path file, Checkpoint.Loaded loaded) {}

    /** Releases the folder (the lock file stays, empty of meaning once unlocked). */
    @Override public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
