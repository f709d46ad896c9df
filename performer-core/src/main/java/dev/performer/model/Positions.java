package dev.performer.model;

import java.util.Locale;

/** How a model knows where a token is. */
public enum Positions {
    /** A learned table of maxLen position vectors added to the token embedding. */
    LEARNED,
    /** Fixed sinusoids sin/cos(t/10000^(2i/C)) added to the token embedding (any length). */
    SINUSOIDAL,
    /** RoFormer's rotary positions: each head's query and key pairs turned by t·θ_i (needs an even D; any length). */
    ROTARY;

    /** The command-line name: learned, sinusoidal or rotary. */
    public String id() { return name().toLowerCase(Locale.ROOT); }

    /** The scheme of a name as {@link #id()} prints it; an unknown name is an IllegalArgumentException naming it. */
    public static Positions of(String id) {
        for (Positions p : values()) if (p.id().equals(id)) return p;
        throw new IllegalArgumentException("unknown positions '" + id + "' (expected learned, sinusoidal or rotary)");
    }
}
