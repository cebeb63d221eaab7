package barista.engine.constraint;

import barista.engine.sampling.RefusedRequestException;
import com.fasterxml.jackson.databind.JsonNode;
import dk.brics.automaton.Automaton;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The JSON schema keywords that narrow a scalar: numeric bounds, {@code pattern}, {@code format}, and the object and
 * array counts we can only accept where they hold anyway. Kept apart from {@link JsonSchemas}'s structure so each
 * keyword's rule reads on its own.
 *
 * <p>Bounds follow xgrammar's approach for integer ranges (a range of decimal strings as an automaton, digit by
 * digit); a number's bounds are enforced on its integer part and fraction when they are integers, and widened to the
 * enclosing integers otherwise. A bounded number is written without an exponent. {@code pattern} and {@code format}
 * are matched against the whole string (a whole match is also a match of JSON schema's unanchored search), and
 * their strings hold no character that JSON must escape.
 */
final class SchemaKeywords {
  private SchemaKeywords() {}

  static final List<String> NUMERIC = List.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
  static final List<String> KEYWORDS = List.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
      "pattern", "format", "nullable", "minProperties", "maxProperties", "uniqueItems");

  /** The largest magnitude {@link JsonSchemas#integer()} writes (16 digits). */
  static final long MAX_MAGNITUDE = 9_999_999_999_999_999L;

  /**
   * Formats whose strings we write: a regular subset of each format's values (what a strict validator accepts: dates
   * that exist, except 29 February; times in UTC; lower-case UUIDs of versions 1 to 8; plain addresses).
   */
  static final Map<String, String> FORMATS = Map.of(
      "date", date(),
      "date-time", date() + "T" + time(),
      "time", time(),
      "uuid", "[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
      "email", "[a-z0-9]+(\\.[a-z0-9]+)*@" + hostname() + "\\.[a-z]{2,6}",
      "ipv4", "(" + octet() + "\\.){3}" + octet(),
      "ipv6", "[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7}",
      "uri", "https?://" + hostname() + "(/[A-Za-z0-9._~-]*)*",
      "hostname", hostname());

  private static String date() {
    String day = "(0[1-9]|1[0-9]|2[0-8])";
    return "[0-9]{4}-((0[1-9]|1[0-2])-" + day + "|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)";
  }

  private static String time() {
    return "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?Z";
  }

  private static String hostname() {
    return "[a-z0-9]+(-[a-z0-9]+)*(\\.[a-z0-9]+(-[a-z0-9]+)*)*";
  }

  private static String octet() {
    return "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
  }

  /** The bounds a schema sets, or null when it sets none. */
  record Bounds(BigDecimal low, boolean lowExclusive, BigDecimal high, boolean highExclusive) {}

  static Bounds bounds(JsonNode s, String path) {
    if (NUMERIC.stream().noneMatch(s::has)) return null;
    BigDecimal low = decimal(s, "minimum", path);
    BigDecimal high = decimal(s, "maximum", path);
    boolean lowExclusive = false;
    boolean highExclusive = false;
    JsonNode exMin = s.get("exclusiveMinimum");
    if (exMin != null && exMin.isBoolean()) { // draft 4: a flag on minimum
      lowExclusive = exMin.asBoolean() && low != null;
    } else if (exMin != null) {
      BigDecimal v = decimal(s, "exclusiveMinimum", path);
      if (low == null || v.compareTo(low) >= 0) {
        low = v;
        lowExclusive = true;
      }
    }
    JsonNode exMax = s.get("exclusiveMaximum");
    if (exMax != null && exMax.isBoolean()) {
      highExclusive = exMax.asBoolean() && high != null;
    } else if (exMax != null) {
      BigDecimal v = decimal(s, "exclusiveMaximum", path);
      if (high == null || v.compareTo(high) <= 0) {
        high = v;
        highExclusive = true;
      }
    }
    return new Bounds(low, lowExclusive, high, highExclusive);
  }

  private static BigDecimal decimal(JsonNode s, String keyword, String path) {
    JsonNode n = s.get(keyword);
    if (n == null) return null;
    if (!n.isNumber()) throw JsonSchemas.bad(path, keyword + " must be a number");
    return n.decimalValue();
  }

  /** The integers within the bounds (all integers when null). */
  static Automaton integer(Bounds b) {
    if (b == null) return JsonSchemas.integer();
    long low = -MAX_MAGNITUDE;
    long high = MAX_MAGNITUDE;
    if (b.low() != null) {
      BigDecimal l = b.low().setScale(0, RoundingMode.CEILING);
      if (b.lowExclusive() && l.compareTo(b.low()) == 0) l = l.add(BigDecimal.ONE);
      low = clamp(l);
    }
    if (b.high() != null) {
      BigDecimal h = b.high().setScale(0, RoundingMode.FLOOR);
      if (b.highExclusive() && h.compareTo(b.high()) == 0) h = h.subtract(BigDecimal.ONE);
      high = clamp(h);
    }
    List<Automaton> sides = new ArrayList<>();
    if (high >= 0 && low <= MAX_MAGNITUDE) sides.add(decimalRange(Math.max(0, low), high));
    if (low < 0) sides.add(Automaton.makeChar('-').concatenate(decimalRange(Math.max(1, -high), -low)));
    Automaton a = sides.isEmpty() ? Automaton.makeEmpty() : Automaton.union(sides);
    Automata.minimize(a);
    return a;
  }

  /**
   * The numbers within the bounds, without exponent: a number's magnitude I.F lies in [I, I+1), so an integer bound
   * splits on the integer part I and whether the fraction F is zero. A bound that is not an integer is widened to the
   * enclosing integer (the output may then pass it by less than one).
   */
  static Automaton number(Bounds b) {
    if (b == null) return JsonSchemas.number();
    BigDecimal low = b.low();
    BigDecimal high = b.high();
    boolean lowEx = b.lowExclusive();
    boolean highEx = b.highExclusive();
    if (low != null && low.stripTrailingZeros().scale() > 0) {
      low = low.setScale(0, RoundingMode.FLOOR);
      lowEx = false;
    }
    if (high != null && high.stripTrailingZeros().scale() > 0) {
      high = high.setScale(0, RoundingMode.CEILING);
      highEx = false;
    }
    List<Automaton> sides = new ArrayList<>();
    // No sign: value = magnitude.
    if (high == null || high.signum() > 0 || (high.signum() == 0 && !highEx)) {
      List<Automaton> facets = new ArrayList<>();
      if (low != null && low.signum() >= 0) facets.add(atLeast(clamp(low), lowEx));
      if (high != null) facets.add(atMost(clamp(high), highEx));
      sides.add(intersect(facets));
    }
    // '-': value = -magnitude, magnitude above zero ("-0" is left to the unsigned side).
    if (low == null || low.signum() < 0) {
      List<Automaton> facets = new ArrayList<>();
      facets.add(atLeast(0, true));
      if (low != null) facets.add(atMost(clamp(low.negate()), lowEx));
      if (high != null && high.signum() < 0) facets.add(atLeast(clamp(high.negate()), highEx));
      sides.add(Automaton.makeChar('-').concatenate(intersect(facets)));
    }
    Automaton a = sides.isEmpty() ? Automaton.makeEmpty() : Automaton.union(sides);
    Automata.minimize(a);
    return a;
  }

  private static Automaton intersect(List<Automaton> facets) {
    Automaton a = magnitude(0, MAX_MAGNITUDE, ANY_FRACTION);
    for (Automaton f : facets) a = a.intersection(f);
    return a;
  }

  private static final Automaton DIGIT = Automaton.makeCharRange('0', '9');
  private static final Automaton ANY_FRACTION = Automaton.makeChar('.').concatenate(DIGIT.repeat(1, 16)).optional();
  private static final Automaton ZERO_FRACTION = Automaton.makeChar('.').concatenate(Automaton.makeChar('0')
      .repeat(1, 16)).optional();
  private static final Automaton NONZERO_FRACTION = ANY_FRACTION.minus(ZERO_FRACTION);

  /** Magnitudes I.F with I in [low, high] (empty when low > high) and F as given. */
  private static Automaton magnitude(long low, long high, Automaton fraction) {
    if (low > high) return Automaton.makeEmpty();
    return decimalRange(low, high).concatenate(fraction);
  }

  private static Automaton atLeast(long bound, boolean exclusive) {
    if (!exclusive) return magnitude(bound, MAX_MAGNITUDE, ANY_FRACTION);
    return magnitude(bound + 1, MAX_MAGNITUDE, ANY_FRACTION).union(magnitude(bound, bound, NONZERO_FRACTION));
  }

  private static Automaton atMost(long bound, boolean exclusive) {
    Automaton below = magnitude(0, bound - 1, ANY_FRACTION);
    return exclusive ? below : below.union(magnitude(bound, bound, ZERO_FRACTION));
  }

  private static long clamp(BigDecimal v) {
    if (v.compareTo(BigDecimal.valueOf(MAX_MAGNITUDE + 1)) > 0) return MAX_MAGNITUDE + 1;
    if (v.compareTo(BigDecimal.valueOf(-MAX_MAGNITUDE - 1)) < 0) return -MAX_MAGNITUDE - 1;
    return v.longValueExact();
  }

  /** The decimal texts (no leading zeros) of the integers in [low, high], 0 <= low; empty when low > high. */
  static Automaton decimalRange(long low, long high) {
    high = Math.min(high, MAX_MAGNITUDE);
    if (low > high) return Automaton.makeEmpty();
    List<Automaton> lengths = new ArrayList<>();
    long first = 1;
    for (int len = 1; len <= 16; len++, first *= 10) {
      long lo = Math.max(low, len == 1 ? 0 : first);
      long hi = Math.min(high, first * 10 - 1);
      if (lo <= hi) lengths.add(sameLength(Long.toString(lo), Long.toString(hi)));
    }
    return Automaton.union(lengths);
  }

  /** The digit strings between lo and hi, both of the same length, in lexicographic (so numeric) order. */
  private static Automaton sameLength(String lo, String hi) {
    if (lo.isEmpty()) return Automaton.makeEmptyString();
    if (lo.chars().allMatch(c -> c == '0') && hi.chars().allMatch(c -> c == '9')) {
      return DIGIT.repeat(lo.length(), lo.length()); // else both ends would recurse: exponential in the length
    }
    char a = lo.charAt(0);
    char b = hi.charAt(0);
    String loRest = lo.substring(1);
    String hiRest = hi.substring(1);
    if (a == b) return Automaton.makeChar(a).concatenate(sameLength(loRest, hiRest));
    List<Automaton> parts = new ArrayList<>();
    parts.add(Automaton.makeChar(a).concatenate(sameLength(loRest, "9".repeat(loRest.length()))));
    if (b - a > 1) parts.add(Automaton.makeCharRange((char) (a + 1), (char) (b - 1)).concatenate(DIGIT.repeat(
        loRest.length(), loRest.length())));
    parts.add(Automaton.makeChar(b).concatenate(sameLength("0".repeat(hiRest.length()), hiRest)));
    return Automaton.union(parts);
  }

  /** The JSON strings whose contents match the regex as a whole and need no escape; null when none is asked. */
  static Automaton string(JsonNode s, String path) {
    List<Automaton> facets = new ArrayList<>();
    JsonNode pattern = s.get("pattern");
    if (pattern != null) {
      if (!pattern.isTextual()) throw JsonSchemas.bad(path, "pattern must be a string");
      facets.add(Regexes.parse(pattern.asText()));
    }
    JsonNode format = s.get("format");
    if (format != null) {
      if (!format.isTextual()) throw JsonSchemas.bad(path, "format must be a string");
      String regex = FORMATS.get(format.asText());
      if (regex != null) facets.add(Regexes.parse(regex)); // other formats are annotations
    }
    if (facets.isEmpty()) return null;
    Automaton contents = UNESCAPED.repeat();
    for (Automaton f : facets) {
      Regexes.checkRepeat(contents, f.getNumberOfStates());
      contents = contents.intersection(f);
    }
    return Automaton.makeChar('"').concatenate(contents).concatenate(Automaton.makeChar('"'));
  }

  private static final Automaton UNESCAPED = Automaton.makeCharRange('\u0020', '\uffff')
      .minus(Automaton.makeCharSet("\"\\"));

  /** nullable (OpenAPI): true adds null to the values. */
  static boolean nullable(JsonNode s, String path) {
    JsonNode n = s.get("nullable");
    if (n == null) return false;
    if (!n.isBoolean()) throw JsonSchemas.bad(path, "nullable must be true or false");
    return n.asBoolean();
  }

  /**
   * minProperties and maxProperties hold for every object we write when the required members already meet the minimum
   * and the listed properties cannot exceed the maximum; otherwise the schema is refused naming the keyword.
   */
  static void checkPropertyCounts(JsonNode s, int properties, int required, boolean closed, String path) {
    JsonNode min = s.get("minProperties");
    if (min != null && !(min.canConvertToInt() && min.asInt() <= required)) {
      throw new RefusedRequestException("minProperties", "minProperties above the number of required "
          + "properties is not supported (at " + JsonSchemas.where(path) + ")");
    }
    JsonNode max = s.get("maxProperties");
    if (max != null && !(closed && max.canConvertToInt() && max.asInt() >= properties)) {
      throw new RefusedRequestException("maxProperties", "maxProperties below the number of properties (or "
          + "with additional properties) is not supported (at " + JsonSchemas.where(path) + ")");
    }
  }

  /** uniqueItems holds by itself when it is false or at most one item is allowed; otherwise it is refused. */
  static void checkUniqueItems(JsonNode s, int maxItems, String path) {
    JsonNode u = s.get("uniqueItems");
    if (u == null || (u.isBoolean() && !u.asBoolean())) return;
    if (u.isBoolean() && maxItems >= 0 && maxItems <= 1) return;
    throw new RefusedRequestException("uniqueItems", "uniqueItems: true is not supported (at "
        + JsonSchemas.where(path) + ")");
  }
}
