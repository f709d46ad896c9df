package dev.performer.kernel;

import java.util.Locale;

/** The kernel backends, by the names the command line and the benchmarks use. */
public enum Backend {
    /** The reference: plain loops, one thread. */
    SCALAR,
    /** Vector API kernels over a private fork-join pool: the fast default. */
    VECTOR,
    /** OpenBLAS {@code cblas_sgemm} through FFM for GEMM (vector kernels for the rest); optional library. */
    OPENBLAS;

    /** The lower-case name: scalar, vector, openblas. */
    public String id() { return name().toLowerCase(Locale.ROOT); }

    /** The backend of a lower-case name; an unknown name is an IllegalArgumentException naming it. */
    public static Backend of(String id) {
        for (Backend b : values()) if (b.id().equals(id)) return b;
        throw new IllegalArgumentException("unknown kernel backend '" + id + "' (expected scalar, vector or openblas)");
    }
}
