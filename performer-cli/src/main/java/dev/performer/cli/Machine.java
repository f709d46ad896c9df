package dev.performer.cli;

import dev.performer.kernel.Kernels;
import dev.performer.kernel.OpenBlas;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** What a benchmark reports about where it ran. */
final class Machine {

    private Machine() {}

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    static long memTotalMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo")))
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return Runtime.getRuntime().maxMemory() / (1 << 20);
    }

    /** Peak resident set size of this process in MB (VmHWM), or -1 where /proc is missing. */
    static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return -1;
    }

    static String jdk() {
        return System.getProperty("java.vm.vendor", "?") + " " + System.getProperty("java.vm.name", "?") + " "
                + Runtime.version();
    }

    /** Ordered key/value description for headers and JSON. */
    static Map<String, String> describe(Kernels kern) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
        m.put("memory_mb", String.valueOf(memTotalMb()));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.put("jdk", jdk());
        m.put("max_heap_mb", String.valueOf(Runtime.getRuntime().maxMemory() / (1 << 20)));
        m.put("backend", kern.describe());
        m.put("threads", String.valueOf(kern.threads()));
        Optional<OpenBlas> ob = OpenBlas.load();
        m.put("openblas", ob.map(b -> b.config() + " at " + b.library()).orElse("not found"));
        return m;
    }
}
