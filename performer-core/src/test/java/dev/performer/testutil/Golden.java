package dev.performer.testutil;

import dev.performer.io.Npy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Access to the golden cases copied under src/test/resources/golden/attention. */
public final class Golden {

    private Golden() {}

    public static Path root() {
        String dir = System.getProperty("performer.golden");   // set by modules that use the fixtures from outside
        if (dir != null) return Path.of(dir);
        try {
            var url = Golden.class.getResource("/golden/attention");
            if (url == null) throw new IllegalStateException("golden/attention missing from test resources");
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static List<String> cases() {
        try (Stream<Path> s = Files.list(root())) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One case: its case.json and arrays. */
    public record Case(String name, String json) {
        public static Case load(String name) {
            try {
                return new Case(name, Files.readString(root().resolve(name).resolve("case.json")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public String str(String key) {
            Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
            if (!m.find()) throw new IllegalArgumentException(name + ": no string " + key);
            return m.group(1);
        }

        public double num(String key) {
            Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*([-0-9.eE+]+)").matcher(json);
            if (!m.find()) throw new IllegalArgumentException(name + ": no number " + key);
            return Double.parseDouble(m.group(1));
        }

        public boolean bool(String key) {
            Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*(true|false)").matcher(json);
            if (!m.find()) throw new IllegalArgumentException(name + ": no boolean " + key);
            return m.group(1).equals("true");
        }

        public boolean has(String file) { return Files.exists(root().resolve(name).resolve(file + ".npy")); }

        public Npy.Array array(String file) {
            try {
                return Npy.read(root().resolve(name).resolve(file + ".npy"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
