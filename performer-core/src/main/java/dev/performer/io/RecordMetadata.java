package dev.performer.io;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Records as flat string metadata ({@code prefix.component = value}) and back, by the records'
 * own components: the schema of a checkpoint's configuration is the record definitions, written
 * and read by this one piece of code. Components may be primitives, strings, enums (by name),
 * records (nested prefixes) and sealed interfaces of records ({@code prefix.kind} names the
 * record, lower case). Reading validates through the records' constructors; every error names
 * the source and the field.
 */
public final class RecordMetadata {

    /** Metadata that does not describe a valid record: names the source and the field. */
    public static final class FormatException extends IOException {
        public FormatException(String message) { super(message); }
    }

    private RecordMetadata() {}

    /** Writes every component of r under prefix into out. */
    public static void write(String prefix, Record r, Map<String, String> out) {
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object v;
            try {
                v = c.getAccessor().invoke(r);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("cannot read " + r.getClass().getSimpleName() + "." + c.getName(), e);
            }
            writeValue(prefix + "." + c.getName(), c.getType(), v, out);
        }
    }

    private static void writeValue(String key, Class<?> type, Object v, Map<String, String> out) {
        if (v instanceof Record rec) {
            if (type.isSealed()) out.put(key + ".kind", kind(rec.getClass()));
            write(key, rec, out);
        } else if (v instanceof Enum<?> e) {
            out.put(key, e.name());
        } else {
            out.put(key, String.valueOf(v));
        }
    }

    /** Reads a record of the given type from the metadata under prefix; source names the file in errors. */
    public static <T> T read(String prefix, Class<T> type, Map<String, String> in, String source)
            throws FormatException {
        Class<?> concrete = type;
        if (type.isSealed()) {
            String k = in.get(prefix + ".kind");
            concrete = Arrays.stream(type.getPermittedSubclasses()).filter(s -> kind(s).equals(k)).findFirst()
                    .orElseThrow(() -> new FormatException(source + ": metadata field " + prefix + ".kind is "
                            + quote(k) + ", expected one of "
                            + Arrays.stream(type.getPermittedSubclasses()).map(RecordMetadata::kind).toList()));
        }
        if (!concrete.isRecord()) throw new IllegalArgumentException(concrete + " is not a record");
        RecordComponent[] cs = concrete.getRecordComponents();
        Object[] args = new Object[cs.length];
        Class<?>[] types = new Class<?>[cs.length];
        for (int i = 0; i < cs.length; i++) {
            types[i] = cs[i].getType();
            args[i] = readValue(prefix + "." + cs[i].getName(), types[i], in, source);
        }
        try {
            Constructor<?> ctor = concrete.getDeclaredConstructor(types);
            return type.cast(ctor.newInstance(args));
        } catch (InvocationTargetException e) {
            throw new FormatException(source + ": metadata " + prefix + ".*: " + e.getCause().getMessage());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + concrete.getSimpleName(), e);
        }
    }

    private static Object readValue(String key, Class<?> type, Map<String, String> in, String source)
            throws FormatException {
        if (type.isRecord() || type.isSealed()) return read(key, type, in, source);
        String s = in.get(key);
        if (s == null) throw new FormatException(source + ": metadata field " + key + " is missing");
        try {
            if (type == int.class) return Integer.parseInt(s);
            if (type == long.class) return Long.parseLong(s);
            if (type == float.class) return Float.parseFloat(s);
            if (type == double.class) return Double.parseDouble(s);
            if (type == boolean.class) {
                if (!s.equals("true") && !s.equals("false")) throw new IllegalArgumentException();
                return Boolean.parseBoolean(s);
            }
            if (type == String.class) return s;
            if (type.isEnum()) return enumValue(type, s);
        } catch (IllegalArgumentException e) {
            throw new FormatException(source + ": metadata field " + key + " is " + quote(s) + ", not a valid "
                    + type.getSimpleName() + (type.isEnum() ? " " + Arrays.toString(type.getEnumConstants()) : ""));
        }
        throw new IllegalArgumentException("unsupported component type " + type + " at " + key);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumValue(Class<?> type, String s) { return Enum.valueOf((Class<? extends Enum>) type, s); }

    private static String kind(Class<?> c) { return c.getSimpleName().toLowerCase(Locale.ROOT); }

    private static String quote(String s) { return s == null ? "missing" : "'" + s + "'"; }
}
