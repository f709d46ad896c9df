package dev.performer.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar with ETA on a terminal (redrawn in place), plain lines otherwise (one per
 * step, so that logs stay readable).
 */
final class Progress {

    private final PrintStream err;
    private final String label;
    private final int total;
    private final boolean tty;
    private final long start = System.nanoTime();
    private int done;

    Progress(PrintStream err, String label, int total) {
        this.err = err;
        this.label = label;
        this.total = Math.max(total, 1);
        this.tty = System.console() != null && System.getenv("TERM") != null && !"dumb".equals(System.getenv("TERM"));
    }

    void step(String what) {
        done++;
        double elapsed = (System.nanoTime() - start) / 1e9;
        double eta = done == 0 ? 0 : elapsed / done * (total - done);
        if (tty) {
            int width = 30, fill = (int) Math.round(width * (double) done / total);
            err.printf(Locale.ROOT, "\r%s [%s%s] %d/%d  %s  ETA %s  %-40.40s", label, "#".repeat(fill),
                    ".".repeat(width - fill),
                    done, total, time(elapsed), time(eta), what);
            if (done == total) err.println();
        } else {
            err.printf(Locale.ROOT, "%s %d/%d (%s elapsed, ETA %s) %s%n", label, done, total, time(elapsed), time(eta),
                    what);
        }
        err.flush();
    }

    static String time(double s) {
        if (s < 60) return String.format(Locale.ROOT, "%.0fs", s);
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", (int) s / 60, (int) s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", (int) s / 3600, ((int) s % 3600) / 60);
    }
}
