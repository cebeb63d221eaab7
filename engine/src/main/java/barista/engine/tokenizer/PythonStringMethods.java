package barista.engine.tokenizer;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Python's str methods for Jinjava, which otherwise calls Java's String methods: chat templates are written for
 * Jinja2, where {@code content.split('</think>')[-1]} keeps a trailing empty part (Java's split drops it and takes a
 * regex), and where strip/lstrip/rstrip(chars), startswith and endswith exist.
 */
final class PythonStringMethods extends ELResolver {

  @Override
  public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
    if (!(base instanceof String s) || !(method instanceof String name)) {
      return null;
    }
    Object[] args = params == null ? new Object[0] : params;
    Object result = switch (name) {
      case "split" -> split(s, arg(args, 0), args.length > 1 ? ((Number) args[1]).intValue() : -1);
      case "strip" -> rstrip(lstrip(s, arg(args, 0)), arg(args, 0));
      case "lstrip" -> lstrip(s, arg(args, 0));
      case "rstrip" -> rstrip(s, arg(args, 0));
      case "startswith" -> s.startsWith((String) args[0]);
      case "endswith" -> s.endsWith((String) args[0]);
      default -> null;
    };
    if (result != null) {
      context.setPropertyResolved(true);
    }
    return result;
  }

  /** str.split: with a separator, every part (empty ones too); without, runs of whitespace, no empty parts. */
  static List<String> split(String s, String separator, int maxSplit) {
    List<String> parts = new ArrayList<>();
    if (separator == null) {
      int i = 0;
      while (true) {
        while (i < s.length() && isSpace(s.charAt(i))) {
          i++;
        }
        if (i == s.length()) {
          return parts;
        }
        if (parts.size() == maxSplit) {
          parts.add(s.substring(i));
          return parts;
        }
        int start = i;
        while (i < s.length() && !isSpace(s.charAt(i))) {
          i++;
        }
        parts.add(s.substring(start, i));
      }
    }
    if (separator.isEmpty()) {
      throw new IllegalArgumentException("split: empty separator");
    }
    int start = 0;
    for (int at = s.indexOf(separator); at >= 0 && parts.size() != maxSplit; at = s.indexOf(separator, start)) {
      parts.add(s.substring(start, at));
      start = at + separator.length();
    }
    parts.add(s.substring(start));
    return parts;
  }

  static String lstrip(String s, String chars) {
    int start = 0;
    while (start < s.length() && strips(s.charAt(start), chars)) {
      start++;
    }
    return s.substring(start);
  }

  static String rstrip(String s, String chars) {
    int end = s.length();
    while (end > 0 && strips(s.charAt(end - 1), chars)) {
      end--;
    }
    return s.substring(0, end);
  }

  private static boolean strips(char c, String chars) {
    return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
  }

  /** Python's str.isspace for one character. */
  private static boolean isSpace(char c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
  }

  private static String arg(Object[] args, int index) {
    return args.length > index ? (String) args[index] : null;
  }

  // Only method calls are handled here; property access falls through to Jinjava's resolvers.

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {}

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return true;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return null;
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }
}
