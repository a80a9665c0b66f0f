package benchmarks;

import java.util.List;
import java.util.Map;

/** Just enough JSON writing for results.json: maps, lists, strings, numbers. */
final class Json {
    static String write(Object o) {
        if (o instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            m.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append(write(k.toString())).append(':').append(write(v)));
            return b.append('}').toString();
        }
        if (o instanceof List<?> l) {
            StringBuilder b = new StringBuilder("[");
            l.forEach(v -> b.append(b.length() > 1 ? "," : "").append(write(v)));
            return b.append(']').toString();
        }
        if (o instanceof Number || o instanceof Boolean) {
            return o.toString();
        }
        return "\"" + o.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private Json() {
    }
}
