package dev.performer.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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

    /** Renames tmp over target atomically, with the usual rw-r--r-- permissions (temporary files are private). */
    public static void publish(Path tmp, Path target) throws IOException {
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: keep the defaults
        }
        Files.move(tmp, target.toAbsolutePath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
