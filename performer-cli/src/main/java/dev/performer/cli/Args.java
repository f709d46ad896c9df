package dev.performer.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Parsed {@code --name value} options and {@code --flag} switches of one command. */
final class Args {

    private final String command;
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new TreeSet<>();

    private Args(String command) { this.command = command; }

    /**
     * Parses argv against the options a command accepts. {@code --name=value} and
     * {@code --name value} both work. Unknown options and missing values are usage errors.
     */
    static Args parse(String command, String[] argv, Set<String> valued, Set<String> switches) {
        Args a = new Args(command);
        for (int i = 0; i < argv.length; i++) {
            String s = argv[i];
            if (!s.startsWith("--")) throw new UsageException(command + ": unexpected argument '" + s + "'");
            String name = s.substring(2), value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) { value = name.substring(eq + 1); name = name.substring(0, eq); }
            if (switches.contains(name)) {
                if (value != null) throw new UsageException(command + ": --" + name + " takes no value");
                a.flags.add(name);
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= argv.length) throw new UsageException(command + ": --" + name + " needs a value");
                    value = argv[++i];
                }
                a.values.put(name, value);
            } else {
                List<String> known = new ArrayList<>();
                for (String v : new TreeSet<>(valued)) known.add("--" + v);
                for (String f : new TreeSet<>(switches)) known.add("--" + f);
                throw new UsageException(command + ": unknown option --" + name + " (known: " + String.join(" ", known) + ")");
            }
        }
        return a;
    }

    boolean has(String flag) { return flags.contains(flag); }

    boolean given(String name) { return values.containsKey(name); }

    String str(String name, String def) { return values.getOrDefault(name, def); }

    String required(String name) {
        String v = values.get(name);
        if (v == null) throw new UsageException(command + ": --" + name + " is required");
        return v;
    }

    int integer(String name, int def, int min) {
        String v = values.get(name);
        if (v == null) return def;
        int x;
        try { x = Integer.parseInt(v.trim()); }
        catch (NumberFormatException e) { throw new UsageException(command + ": --" + name + " must be an integer, got '" + v + "'"); }
        if (x < min) throw new UsageException(command + ": --" + name + " must be >= " + min + ", got " + x);
        return x;
    }

    long longValue(String name, long def) {
        String v = values.get(name);
        if (v == null) return def;
        try { return Long.parseLong(v.trim()); }
        catch (NumberFormatException e) { throw new UsageException(command + ": --" + name + " must be an integer, got '" + v + "'"); }
    }

    double dbl(String name, double def) {
        String v = values.get(name);
        if (v == null) return def;
        double x;
        try { x = Double.parseDouble(v.trim()); }
        catch (NumberFormatException e) { throw new UsageException(command + ": --" + name + " must be a number, got '" + v + "'"); }
        if (!Double.isFinite(x)) throw new UsageException(command + ": --" + name + " must be finite, got '" + v + "'");
        return x;
    }

    /** A comma-separated list of integers, each ≥ min; powers like 2^16 are accepted. */
    List<Integer> intList(String name, String def, int min) {
        String v = values.getOrDefault(name, def);
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
                throw new UsageException(command + ": --" + name + " must be a comma-separated list of integers, got '" + p + "'");
            }
            if (x < min) throw new UsageException(command + ": --" + name + " values must be >= " + min + ", got " + x);
            out.add(x);
        }
        if (out.isEmpty()) throw new UsageException(command + ": --" + name + " is empty");
        return out;
    }

    /** A comma-separated list of words, each one of the allowed ones. */
    List<String> wordList(String name, String def, Set<String> allowed) {
        List<String> out = new ArrayList<>();
        for (String p : values.getOrDefault(name, def).split(",")) {
            String w = p.trim();
            if (w.isEmpty()) continue;
            if (!allowed.contains(w))
                throw new UsageException(command + ": --" + name + " value '" + w + "' is not one of " + String.join(",", new TreeSet<>(allowed)));
            out.add(w);
        }
        if (out.isEmpty()) throw new UsageException(command + ": --" + name + " is empty");
        return out;
    }

    /** One word from the allowed ones. */
    String choice(String name, String def, Set<String> allowed) {
        String v = values.getOrDefault(name, def);
        if (!allowed.contains(v))
            throw new UsageException(command + ": --" + name + " must be one of " + String.join("|", new TreeSet<>(allowed)) + ", got '" + v + "'");
        return v;
    }
}
