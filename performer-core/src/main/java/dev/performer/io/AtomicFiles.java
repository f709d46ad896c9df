package dev.performer.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Writes that never leave a half-written file: write a temporary file beside the target, then rename it. */
public final class AtomicFiles {

    private AtomicFiles() {}

    /** A temporary file in the target's folder (created if needed). */
    public static Path temporaryFor(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        return Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
    }

    /**
     * Renames tmp over target atomically, with the usual rw-r--r-- permissions (temporary files are
     * private). The file's bytes reach the disk before the rename and the folder's entry after it,
     * so that after a power loss the target is the old file or the new one, never an empty one.
     */
    public static void publish(Path tmp, Path target) throws IOException {
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: keep the defaults
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Path abs = target.toAbsolutePath();
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        syncFolder(abs.getParent());
    }

    /** Writes text to target atomically (temporary file, synced, renamed). */
    public static void writeString(Path target, String text) throws IOException {
        Path tmp = temporaryFor(target);
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            publish(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void syncFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some platforms cannot open or sync a folder: the rename is still atomic
        }
    }
}
