package dev.performer.bench;

import dev.performer.kernel.Backend;
import dev.performer.kernel.Kernels;

/**
 * The one place where the benchmarks create kernels, so that a change of the factory's signature
 * touches one line. An unknown or missing backend (e.g. {@code openblas} without the library)
 * throws from the benchmark's setup: JMH reports that parameter point as failed with the message
 * and goes on with the next one.
 */
final class Backends {

    /** JVM options of every forked benchmark JVM (as the {@code performer} launcher passes them). */
    static final String ADD_MODULES = "--add-modules";
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    static final String PARALLEL_GC = "-XX:+UseParallelGC";
    /** Silences JDK 25's warning about JMH 1.37's use of sun.misc.Unsafe (no effect on the timings). */
    static final String UNSAFE_ALLOW = "--sun-misc-unsafe-memory-access=allow";

    private Backends() {}

    static Kernels kernels(String backend, int threads) {
        return Kernels.create(Backend.of(backend), threads);
    }
}
