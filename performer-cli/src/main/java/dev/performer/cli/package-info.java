/**
 * The command line: {@code performer info | demo | attention | bench | approx}. Every command has
 * {@code --help}; user mistakes end with a one-line error naming the culprit and exit code 2.
 */
package dev.performer.cli;
