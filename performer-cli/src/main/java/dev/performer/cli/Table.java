package dev.performer.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Result rows with fixed columns, written as CSV and as JSON (with run metadata), atomically. */
final class Table {

    final List<String> columns;
    final List<Map<String, Object>> rows = new ArrayList<>();

    Table(List<String> columns) { this.columns = columns; }

    Map<String, Object> add() {
        Map<String, Object> r = new LinkedHashMap<>();
        rows.add(r);
        return r;
    }

    static String cell(Object v) {
        if (v == null) return "";
        if (v instanceof Double d) return Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.6g", d);
        if (v instanceof Float f) return Float.isNaN(f) ? "" : String.format(Locale.ROOT, "%.6g", f);
        return v.toString();
    }

    void writeCsv(Path file) throws IOException {
        StringBuilder sb = new StringBuilder(String.join(",", columns)).append('\n');
        for (Map<String, Object> r : rows) {
            List<String> cells = new ArrayList<>();
            for (String c : columns) {
                String s = cell(r.get(c));
                cells.add(s.contains(",") || s.contains("\"") ? '"' + s.replace("\"", "\"\"") + '"' : s);
            }
            sb.append(String.join(",", cells)).append('\n');
        }
        atomicWrite(file, sb.toString());
    }

    void writeJson(Path file, Map<String, String> meta) throws IOException {
        StringBuilder sb = new StringBuilder("{\n  \"meta\": {");
        int i = 0;
        for (var e : meta.entrySet())
            sb.append(i++ > 0 ? ", " : "").append(quote(e.getKey())).append(": ").append(quote(e.getValue()));
        sb.append("},\n  \"rows\": [\n");
        for (int r = 0; r < rows.size(); r++) {
            sb.append("    {");
            int j = 0;
            for (String c : columns) {
                Object v = rows.get(r).get(c);
                sb.append(j++ > 0 ? ", " : "").append(quote(c)).append(": ");
                if (v == null || (v instanceof Double d && !Double.isFinite(d))) sb.append("null");
                else if (v instanceof Number) sb.append(cell(v));
                else sb.append(quote(v.toString()));
            }
            sb.append(r + 1 < rows.size() ? "},\n" : "}\n");
        }
        sb.append("  ]\n}\n");
        atomicWrite(file, sb.toString());
    }

    static String quote(String s) { return dev.performer.io.Json.quote(s); }

    static void atomicWrite(Path file, String text) throws IOException {
        Path tmp = dev.performer.io.AtomicFiles.temporaryFor(file);
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        dev.performer.io.AtomicFiles.publish(tmp, file);
    }
}
