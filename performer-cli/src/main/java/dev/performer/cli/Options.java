package dev.performer.cli;

import dev.performer.data.Tokenizer;
import dev.performer.data.SequenceData;
import dev.performer.kernel.Backend;
import dev.performer.kernel.Kernels;
import dev.performer.train.Checkpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.nio.file.Path;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * The option types the commands share: choices (validated, listed in the help as
 * {@code ${COMPLETION-CANDIDATES}}), integers with a minimum, finite numbers, comma lists, and
 * the {@code --backend}/{@code --threads} mixin. Conversion messages start with "must" or "value":
 * {@link Main} prefixes them with the option's name.
 */
final class Options {

    private Options() {}

    /** What every command has: its spec (for its name and arguments) and the streams it prints to. */
    abstract static class Command implements Callable<Integer> {
        @Spec CommandSpec spec;
        PrintStream out = System.out, err = System.err;

        /** The command line as given, after {@code performer <command>}. */
        String argv() {
            // picocli keeps the whole command line: drop everything up to and including this command's name
            List<String> all = spec.commandLine().getParseResult().originalArgs();
            int at = all.indexOf(spec.name());
            return String.join(" ", all.subList(at + 1, all.size()));
        }

        /** Whether the option (by its name, e.g. "--features") was given on the command line. */
        boolean given(String option) { return spec.commandLine().getParseResult().hasMatchedOption(option); }
    }

    /** {@code --backend} and {@code --threads}: the kernels a command computes with. */
    static final class KernelOptions {
        @Option(names = "--backend", paramLabel = "NAME", defaultValue = "vector", converter = Backends.class,
                completionCandidates = Backends.class,
                description = "kernel backend: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
        String backend;

        @Option(names = "--threads", paramLabel = "N", converter = Threads.class,
                description = "worker threads (default: all cores)")
        Integer threads;

        /** The kernel backend from --backend and --threads (default: all cores). */
        Kernels kernels() {
            int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            try {
                return Kernels.create(Backend.of(backend), n);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }
    }

    /** --checkpoint: a .safetensors file or a run folder (its latest checkpoint), for eval, generate and embed. */
    static final class CheckpointOption {
        @Option(names = "--checkpoint", paramLabel = "PATH", required = true,
                description = "a .safetensors file, or a run folder (its latest checkpoint)")
        String checkpoint;

        /** The checkpoint, loaded; a missing or unreadable one is a usage error naming the path. */
        Checkpoint.Loaded load(String command, Kernels kern) throws IOException {
            return Cli.loadCheckpoint(checkpoint, command, kern);
        }

        @Override public String toString() { return checkpoint; }
    }

    /** --unknown: what reading FASTA does with a letter outside the alphabet (train, eval, embed). */
    static final class UnknownOption {
        @Option(names = "--unknown", paramLabel = "POLICY", defaultValue = "x", converter = UnknownPolicies.class,
                completionCandidates = UnknownPolicies.class,
                description = "${COMPLETION-CANDIDATES}: unknown residues as X, or skip their record (default "
                        + "${DEFAULT-VALUE})")
        String name;

        Tokenizer.Unknown policy() {
            return name.equals("x") ? Tokenizer.Unknown.MAP_TO_X : Tokenizer.Unknown.SKIP_RECORD;
        }
    }

    /**
     * --data-kind: the kind of the --data files (train, eval, embed): given, the model's, or detected
     * from the first file; files of another kind than the model's are refused before any work.
     */
    static final class DataKindOption {
        @Option(names = "--data-kind", paramLabel = "KIND", defaultValue = "auto", converter = DataKinds.class,
                completionCandidates = DataKinds.class,
                description = "${COMPLETION-CANDIDATES}: protein (FASTA), image (IDX files, or folders of PNG "
                        + "files), bytes (any file); auto: the model's kind, or detected from the first file "
                        + "(default ${DEFAULT-VALUE})")
        String name;

        boolean given() { return !name.equals("auto"); }

        /**
         * The kind to read files as: for a model of kind {@code model} (null when training a new one)
         * the model's (a --data-kind or a detected kind that contradicts it is a usage error); else the
         * given one, or the first file's detected one (and fallback when there is no file). What was
         * chosen and why is printed on log.
         */
        Tokenizer resolve(String command, List<Path> files, Tokenizer model, Tokenizer fallback, PrintStream log)
                throws IOException {
            Tokenizer given = given() ? Tokenizer.of(name) : null;
            if (model != null) {
                if (given != null && given != model)
                    throw new UsageException(command + ": --data-kind " + name + ", but the checkpoint is "
                            + model.aModel());
                if (given == null && !files.isEmpty() && model != Tokenizer.BYTES) {
                    Tokenizer seen = SequenceData.detect(files.get(0));
                    if (seen != model)
                        throw new UsageException(command + ": " + files.get(0) + " looks like " + seen.id()
                                + " data, but the checkpoint is " + model.aModel());
                }
                return model;
            }
            if (given != null) return given;
            if (files.isEmpty()) return fallback;
            Tokenizer seen = SequenceData.detect(files.get(0));
            log.printf("data kind: %s (detected from %s; --data-kind sets it)%n", seen.id(), files.get(0));
            return seen;
        }
    }

    /**
     * Reads --data files of a kind (see {@link SequenceData#readFiles}); contradictions between files
     * (two image sizes) are usage errors naming the file, malformed files data errors (exit 2 both).
     */
    static int[] read(String command, List<Path> files, Tokenizer.Unknown policy, SequenceData train,
                      SequenceData valid, long seed, double validFraction, PrintStream warn) throws IOException {
        try {
            return SequenceData.readFiles(files, policy, train, valid, seed, validFraction, warn);
        } catch (IllegalArgumentException e) {
            throw new UsageException(command + ": " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ choices

    static final class DataKinds extends Choice { DataKinds() { super("auto", "protein", "image", "bytes"); } }

    /** One word of a fixed list; the list is also the option's completion candidates. */
    abstract static class Choice implements ITypeConverter<String>, Iterable<String> {
        private final List<String> words;

        Choice(String... words) { this.words = List.of(words); }

        @Override public String convert(String v) {
            if (!words.contains(v)) throw new TypeConversionException("must be one of " + String.join("|", words)
                    + ", got '" + v + "'");
            return v;
        }

        @Override public Iterator<String> iterator() { return words.iterator(); }
    }

    static final class Backends extends Choice { Backends() { super("scalar", "vector", "openblas"); } }

    /** The attentions a model can be built with (train, bench --scope model). */
    static final class ModelAttentions extends Choice {
        ModelAttentions() {
            super("exact", "favor-softmax", "favor-softmax-opt", "favor-relu", "identity", "linformer", "reformer");
        }
    }

    /** The attentions without weights of their own: a trained model can be evaluated under any of them (eval). */
    static final class WeightlessAttentions extends Choice {
        WeightlessAttentions() { super("exact", "favor-softmax", "favor-softmax-opt", "favor-relu", "identity"); }
    }

    static final class AllMethods extends Choice { AllMethods() { super(Methods.METHODS.stream().sorted()
            .toArray(String[]::new)); } }

    static final class Directions extends Choice { Directions() { super("bidir", "causal"); } }

    static final class DirectionsOrBoth extends Choice { DirectionsOrBoth() { super("bidir", "causal", "both"); } }

    static final class ProjectionTypes extends Choice { ProjectionTypes() { super("orthogonal", "iid"); } }

    static final class Layouts extends Choice { Layouts() { super("pad", "concat"); } }

    static final class PositionKinds extends Choice { PositionKinds() { super("learned", "sinusoidal", "rotary"); } }

    static final class UnknownPolicies extends Choice { UnknownPolicies() { super("x", "skip"); } }

    // ------------------------------------------------------------------ numbers

    /** An integer of at least min. */
    abstract static class AtLeast implements ITypeConverter<Integer> {
        private final int min;

        AtLeast(int min) { this.min = min; }

        @Override public Integer convert(String v) {
            int x;
            try {
                x = Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("must be an integer, got '" + v + "'");
            }
            if (x < min) throw new TypeConversionException("must be >= " + min + ", got " + x);
            return x;
        }
    }

    static final class AtLeast0 extends AtLeast { AtLeast0() { super(0); } }

    static final class AtLeast1 extends AtLeast { AtLeast1() { super(1); } }

    static final class AtLeast2 extends AtLeast { AtLeast2() { super(2); } }

    static final class AtLeast3 extends AtLeast { AtLeast3() { super(3); } }

    /** A whole number (a seed). */
    static final class Whole implements ITypeConverter<Long> {
        @Override public Long convert(String v) {
            try {
                return Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("must be an integer, got '" + v + "'");
            }
        }
    }

    /** A finite number. */
    static final class Finite implements ITypeConverter<Double> {
        @Override public Double convert(String v) {
            double x;
            try {
                x = Double.parseDouble(v.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("must be a number, got '" + v + "'");
            }
            if (!Double.isFinite(x)) throw new TypeConversionException("must be finite, got '" + v + "'");
            return x;
        }
    }

    /** A finite number in a range; the message states the range as an interval. */
    abstract static class InRange implements ITypeConverter<Double> {
        private final double lo, hi;
        private final boolean loOpen, hiOpen;

        InRange(double lo, boolean loOpen, double hi, boolean hiOpen) {
            this.lo = lo; this.loOpen = loOpen; this.hi = hi; this.hiOpen = hiOpen;
        }

        @Override public Double convert(String v) {
            double x = new Finite().convert(v);
            boolean ok = (loOpen ? x > lo : x >= lo) && (hiOpen ? x < hi : x <= hi);
            if (!ok) throw new TypeConversionException("must be in " + (loOpen ? "(" : "[") + num(lo) + ", "
                    + (Double.isInfinite(hi) ? "inf" : num(hi)) + (hiOpen ? ")" : "]") + ", got " + v.trim());
            return x;
        }

        private static String num(double x) { return x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x); }
    }

    /** A fraction strictly between 0 and 1 (--valid-fraction). */
    static final class Fraction extends InRange { Fraction() { super(0, true, 1, true); } }

    /** A probability that leaves something: [0, 1) (--dropout). */
    static final class Rate extends InRange { Rate() { super(0, false, 1, true); } }

    /** A positive number (--lr, --clip, --temperature, --eps). */
    static final class Positive extends InRange { Positive() { super(0, true, Double.POSITIVE_INFINITY, true); } }

    /** A probability that can be certain: (0, 1] (--top-p). */
    static final class Share extends InRange { Share() { super(0, true, 1, false); } }

    /** A number of zero or more (--weight-decay). */
    static final class NonNegative extends InRange {
        NonNegative() { super(0, false, Double.POSITIVE_INFINITY, true); }
    }

    /** Worker threads: 1 to 1024 (more is a typo, and would fail to start). */
    static final class Threads extends AtLeast {
        Threads() { super(1); }

        @Override public Integer convert(String v) {
            int x = super.convert(v);
            if (x > 1024) throw new TypeConversionException("must be <= 1024, got " + x);
            return x;
        }
    }

    // ------------------------------------------------------------------ lists

    /** A comma-separated list of integers ≥ 1; powers like 2^16 are accepted. */
    record Ints(List<Integer> values) {
        static final class Parse implements ITypeConverter<Ints> {
            @Override public Ints convert(String v) {
                List<Integer> out = new ArrayList<>();
                for (String part : v.split(",")) {
                    String p = part.trim();
                    if (p.isEmpty()) continue;
                    int x;
                    try {
                        if (p.contains("^")) {
                            String[] be = p.split("\\^");
                            x = Math.toIntExact(Math.round(Math.pow(Integer.parseInt(be[0]), Integer.parseInt(be[1]))));
                        } else x = Integer.parseInt(p);
                    } catch (RuntimeException e) {
                        throw new TypeConversionException("must be a comma-separated list of integers, got '" + p
                                + "'");
                    }
                    if (x < 1) throw new TypeConversionException("values must be >= 1, got " + x);
                    out.add(x);
                }
                if (out.isEmpty()) throw new TypeConversionException("is empty");
                return new Ints(List.copyOf(out));
            }
        }
    }

    /** A comma-separated list of attention methods (bench --methods). */
    record Words(List<String> values) {
        /** The list, each one of the allowed ones (a usage error naming the option otherwise). */
        List<String> check(String option, Set<String> allowed) {
            for (String w : values)
                if (!allowed.contains(w))
                    throw new UsageException(option + " value '" + w + "' is not one of "
                            + String.join(",", new TreeSet<>(allowed)));
            return values;
        }

        /** Any comma-separated words, checked later with {@link #check}. */
        static final class Plain implements ITypeConverter<Words> {
            @Override public Words convert(String v) {
                List<String> out = new ArrayList<>();
                for (String p : v.split(",")) if (!p.trim().isEmpty()) out.add(p.trim());
                if (out.isEmpty()) throw new TypeConversionException("is empty");
                return new Words(List.copyOf(out));
            }
        }

        static final class MethodList implements ITypeConverter<Words> {
            @Override public Words convert(String v) {
                List<String> out = new ArrayList<>();
                for (String p : v.split(",")) {
                    String w = p.trim();
                    if (w.isEmpty()) continue;
                    if (!Methods.METHODS.contains(w))
                        throw new TypeConversionException("value '" + w + "' is not one of "
                                + String.join(",", new TreeSet<>(Methods.METHODS)));
                    out.add(w);
                }
                if (out.isEmpty()) throw new TypeConversionException("is empty");
                return new Words(List.copyOf(out));
            }
        }
    }
}
