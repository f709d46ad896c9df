package dev.performer.cli;

/** A user mistake on the command line or in an input file: reported in one line, exit code 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) { super(message); }
}
