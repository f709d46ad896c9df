package dev.performer.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * OpenBLAS {@code cblas_sgemm} through the Foreign Function &amp; Memory API: optional, found at
 * run time, never required. Heap arrays are passed without copying (critical downcalls).
 */
public final class OpenBlas {

    private static final List<String> CANDIDATES = List.of(
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
            "/usr/lib64/libopenblas.so.0",
            "/usr/local/lib/libopenblas.so.0");
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    private final Path library;
    private final MethodHandle sgemm, setThreads, getConfig;

    private OpenBlas(Path library, MethodHandle sgemm, MethodHandle setThreads, MethodHandle getConfig) {
        this.library = library; this.sgemm = sgemm; this.setThreads = setThreads; this.getConfig = getConfig;
    }

    /** Loads OpenBLAS from $PERFORMER_OPENBLAS or the usual system paths, if present. */
    public static Optional<OpenBlas> load() {
        String env = System.getenv("PERFORMER_OPENBLAS");
        List<String> paths = env != null ? List.of(env) : CANDIDATES;
        for (String p : paths) {
            Path path = Path.of(p);
            if (!Files.isReadable(path)) continue;
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup(path, Arena.global());
                Linker linker = Linker.nativeLinker();
                MethodHandle gemm = linker.downcallHandle(lib.findOrThrow("cblas_sgemm"),
                        FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                        Linker.Option.critical(true));
                MethodHandle threads = linker.downcallHandle(lib.findOrThrow("openblas_set_num_threads"),
                        FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
                MethodHandle config = linker.downcallHandle(lib.findOrThrow("openblas_get_config"),
                        FunctionDescriptor.of(ValueLayout.ADDRESS));
                return Optional.of(new OpenBlas(path, gemm, threads, config));
            } catch (RuntimeException | LinkageError e) {
                // not usable: try the next candidate
            }
        }
        return Optional.empty();
    }

    public Path library() { return library; }

    /** OpenBLAS's own description (version, core, threads). */
    public String config() {
        try {
            MemorySegment s = (MemorySegment) getConfig.invokeExact();
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "unknown";
        }
    }

    public void setThreads(int n) {
        try {
            setThreads.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed", t);
        }
    }

    /** Same contract as {@link Kernels#gemm}. */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        Kernels.checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        try {
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
                    MemorySegment.ofArray(a).asSlice(4L * aOff), lda,
                    MemorySegment.ofArray(b).asSlice(4L * bOff), ldb, beta,
                    MemorySegment.ofArray(c).asSlice(4L * cOff), ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }
}
