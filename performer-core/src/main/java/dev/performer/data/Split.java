package dev.performer.data;

import java.nio.charset.StandardCharsets;

/** A deterministic train/validation split by a seeded 64-bit hash of the record id. */
public final class Split {

    private Split() {}

    /** Whether the record with this id belongs to the validation part (a fraction of all ids). */
    public static boolean isValidation(String id, long seed, double fraction) {
        long h = 0x9E3779B97F4A7C15L ^ seed;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) h = mix(h ^ (b & 0xff));
        double u = (mix(h) >>> 11) * 0x1.0p-53;
        return u < fraction;
    }

    private static long mix(long z) { // SplitMix64's finalizer
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
