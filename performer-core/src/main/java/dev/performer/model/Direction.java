package dev.performer.model;


/** Which positions a token attends to, and so the language-model objective. */
public enum Direction {
    /** Every token sees every other: a masked language model (15% of residues, 80/10/10). */
    BIDIRECTIONAL("bidir"),
    /** A token sees itself and the past: a next-token language model, which can generate. */
    CAUSAL("causal");

    private final String id;

    Direction(String id) { this.id = id; }

    /** The command-line name: bidir or causal. */
    public String id() { return id; }

    public boolean causal() { return this == CAUSAL; }

    /** The direction of a name as {@link #id()} prints it; an unknown name is an IllegalArgumentException naming it. */
    public static Direction of(String id) {
        for (Direction d : values()) if (d.id.equals(id)) return d;
        throw new IllegalArgumentException("unknown direction '" + id + "' (expected bidir or causal)");
    }
}
