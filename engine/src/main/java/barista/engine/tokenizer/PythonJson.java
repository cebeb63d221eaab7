package barista.engine.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;

/**
 * The {@code tojson} filter as transformers' chat templates get it: Python's
 * {@code json.dumps(x, ensure_ascii=False)}, with its ", " and ": " separators and keys in insertion order, so a
 * template that writes tool definitions renders byte for byte as with Jinja2 (Jinjava's own tojson writes Jackson's
 * compact form). Floats are written as Java does; integral values as integers.
 */
final class PythonJson implements Filter {

  @Override
  public String getName() {
    return "tojson";
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
    StringBuilder out = new StringBuilder();
    write(var, out);
    return out.toString();
  }

  static void write(Object v, StringBuilder out) {
    if (v == null) {
      out.append("null");
    } else if (v instanceof Boolean b) {
      out.append(b ? "true" : "false");
    } else if (v instanceof Number n) {
      double d = n.doubleValue();
      boolean integral = n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte
          || n instanceof java.math.BigInteger;
      out.append(integral ? n.toString() : Double.isFinite(d) ? Double.toString(d) : d > 0 ? "Infinity"
          : d < 0 ? "-Infinity" : "NaN");
    } else if (v instanceof Map<?, ?> map) {
      out.append('{');
      Iterator<? extends Map.Entry<?, ?>> it = map.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<?, ?> e = it.next();
        string(String.valueOf(e.getKey()), out);
        out.append(": ");
        write(e.getValue(), out);
        if (it.hasNext()) out.append(", ");
      }
      out.append('}');
    } else if (v instanceof Collection<?> list) {
      out.append('[');
      Iterator<?> it = list.iterator();
      while (it.hasNext()) {
        write(it.next(), out);
        if (it.hasNext()) out.append(", ");
      }
      out.append(']');
    } else if (v instanceof Object[] array) {
      write(java.util.Arrays.asList(array), out);
    } else {
      string(v.toString(), out);
    }
  }

  /** A JSON string the way Python escapes it with ensure_ascii=False. */
  private static void string(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    out.append('"');
  }
}
