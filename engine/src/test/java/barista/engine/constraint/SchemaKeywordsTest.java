package barista.engine.constraint;

import barista.engine.sampling.RefusedRequestException;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import dk.brics.automaton.Transition;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.URI;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Each keyword against a reference written here: exact comparisons on numbers, Java's own parsers for formats. */
class SchemaKeywordsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ByteDfa compile(String singleQuoted) throws Exception {
    return ByteDfa.of(JsonSchemas.compile(JSON.readTree(singleQuoted.replace('\'', '"'))));
  }

  @Test
  void decimalRangesHoldExactlyTheirIntegers() {
    Random random = new Random(3);
    for (int trial = 0; trial < 200; trial++) {
      long low = random.nextInt(trial % 2 == 0 ? 50 : 5000);
      long high = low + random.nextInt(trial % 3 == 0 ? 30 : 20000);
      ByteDfa dfa = ByteDfa.of(SchemaKeywords.decimalRange(low, high));
      for (int probe = 0; probe < 200; probe++) {
        long v = Math.max(0, low - 40 + random.nextInt((int) (high - low) + 80));
        assertEquals(v >= low && v <= high, dfa.matches(Long.toString(v)), v + " in [" + low + ", " + high + "]");
      }
      assertFalse(dfa.matches("0" + high), "leading zero");
    }
  }

  @Test
  void integerBoundsAreExactIncludingExclusiveAndDraft4Forms() throws Exception {
    Random random = new Random(4);
    for (int trial = 0; trial < 150; trial++) {
      long low = random.nextInt(600) - 300;
      long high = low + random.nextInt(400);
      boolean lowEx = random.nextBoolean();
      boolean highEx = random.nextBoolean();
      String schema = "{'type':'integer','" + (lowEx ? "exclusiveMinimum" : "minimum") + "':" + low + ",'"
          + (highEx ? "exclusiveMaximum" : "maximum") + "':" + high + "}";
      if (high - low < 2 && (lowEx || highEx)) continue; // may be empty: checked below
      ByteDfa dfa = compile(schema);
      for (long v = low - 5; v <= high + 5; v++) {
        boolean in = (lowEx ? v > low : v >= low) && (highEx ? v < high : v <= high);
        assertEquals(in, dfa.matches(Long.toString(v)), v + " under " + schema);
      }
    }
    ByteDfa draft4 = compile("{'type':'integer','minimum':0,'exclusiveMinimum':true,'maximum':3}");
    assertFalse(draft4.matches("0"));
    assertTrue(draft4.matches("1") && draft4.matches("3"));
    ByteDfa fractional = compile("{'type':'integer','minimum':-2.5,'maximum':2.5}");
    assertTrue(fractional.matches("-2") && fractional.matches("2"));
    assertFalse(fractional.matches("-3") || fractional.matches("3"));
    assertThrows(IllegalArgumentException.class, () -> compile("{'type':'integer','minimum':3,'maximum':2}"));
  }

  @Test
  void wideBoundsAsZodWritesThemCompileToEveryIntegerWeWrite() throws Exception {
    ByteDfa dfa = compile("{'type':'integer','minimum':-9007199254740991,'maximum':9007199254740991}");
    for (String ok : new String[] {"0", "-1", "42", "9007199254740991", "-9007199254740991"}) {
      assertTrue(dfa.matches(ok), ok);
    }
    for (String bad : new String[] {"9007199254740992", "-9007199254740992", "1.5", "01"}) {
      assertFalse(dfa.matches(bad), bad);
    }
  }

  @Test
  void numberBoundsCompareExactlyOnIntegerBounds() throws Exception {
    Random random = new Random(5);
    String[] fractions = {"", ".0", ".00", ".5", ".05", ".999", ".001"};
    for (int trial = 0; trial < 80; trial++) {
      boolean hasLow = random.nextInt(4) > 0;
      boolean hasHigh = random.nextInt(4) > 0;
      long low = random.nextInt(40) - 20;
      long high = low + 1 + random.nextInt(30);
      boolean lowEx = random.nextBoolean();
      boolean highEx = random.nextBoolean();
      StringBuilder schema = new StringBuilder("{'type':'number'");
      if (hasLow) schema.append(",'").append(lowEx ? "exclusiveMinimum" : "minimum").append("':").append(low);
      if (hasHigh) schema.append(",'").append(highEx ? "exclusiveMaximum" : "maximum").append("':").append(high);
      schema.append('}');
      ByteDfa dfa = compile(schema.toString());
      for (long whole = low - 3; whole <= high + 3; whole++) {
        for (String f : fractions) {
          for (String text : new String[] {whole + f, whole == 0 ? "-0" + f : null}) {
            if (text == null) continue;
            BigDecimal v = new BigDecimal(text);
            boolean in = (!hasLow || (lowEx ? v.compareTo(BigDecimal.valueOf(low)) > 0
                : v.compareTo(BigDecimal.valueOf(low)) >= 0))
                && (!hasHigh || (highEx ? v.compareTo(BigDecimal.valueOf(high)) < 0
                : v.compareTo(BigDecimal.valueOf(high)) <= 0));
            if (!in) assertFalse(dfa.matches(text), text + " is outside " + schema);
            // "-0" forms are never written; every other in-range form is.
            if (in && !text.startsWith("-0")) assertTrue(dfa.matches(text), text + " is within " + schema);
          }
        }
      }
    }
    ByteDfa positive = compile("{'type':'number','exclusiveMinimum':0}");
    assertFalse(positive.matches("0") || positive.matches("0.000") || positive.matches("-1") || positive.matches("1e5"));
    assertTrue(positive.matches("0.001") && positive.matches("7"));
  }

  @Test
  void fractionalNumberBoundsAreWidenedToTheEnclosingIntegers() throws Exception {
    ByteDfa dfa = compile("{'type':'number','minimum':0.5,'maximum':1.5}");
    assertTrue(dfa.matches("0.7") && dfa.matches("1.2"));
    assertFalse(dfa.matches("-0.1") || dfa.matches("2.1"));
  }

  @Test
  void everyStringOfAFormatParsesWithJavasOwnParser() {
    Random random = new Random(6);
    for (int i = 0; i < 300; i++) {
      String date = walk(SchemaKeywords.FORMATS.get("date"), random);
      assertDoesNotThrow(() -> LocalDate.parse(date), date);
      String dateTime = walk(SchemaKeywords.FORMATS.get("date-time"), random);
      assertDoesNotThrow(() -> OffsetDateTime.parse(dateTime), dateTime);
      assertDoesNotThrow(() -> LocalDateTime.parse(dateTime.substring(0, dateTime.length() - 1)), dateTime);
      String time = walk(SchemaKeywords.FORMATS.get("time"), random);
      assertDoesNotThrow(() -> OffsetTime.parse(time), time);
      String uuid = walk(SchemaKeywords.FORMATS.get("uuid"), random);
      assertEquals(uuid, UUID.fromString(uuid).toString());
      String ipv4 = walk(SchemaKeywords.FORMATS.get("ipv4"), random);
      assertDoesNotThrow(() -> assertEquals(4, InetAddress.getByName(ipv4).getAddress().length), ipv4);
      String ipv6 = walk(SchemaKeywords.FORMATS.get("ipv6"), random);
      assertDoesNotThrow(() -> assertEquals(16, InetAddress.getByName(ipv6).getAddress().length), ipv6);
      String uri = walk(SchemaKeywords.FORMATS.get("uri"), random);
      assertDoesNotThrow(() -> assertTrue(URI.create(uri).isAbsolute()), uri);
      String email = walk(SchemaKeywords.FORMATS.get("email"), random);
      // The email rule of the HTML standard, a stricter reading than RFC 5322.
      assertTrue(Pattern.matches("[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
          + "(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*", email), email);
    }
  }

  @Test
  void formatsRefuseImpossibleValues() throws Exception {
    ByteDfa date = compile("{'type':'string','format':'date'}");
    assertTrue(date.matches("\"2024-01-31\"") && date.matches("\"2023-12-30\""));
    for (String bad : new String[] {"2024-02-30", "2024-04-31", "2024-13-01", "2024-00-10", "24-01-01"}) {
      assertFalse(date.matches("\"" + bad + "\""), bad);
    }
    ByteDfa unknownFormat = compile("{'type':'string','format':'color','maxLength':2}");
    assertTrue(unknownFormat.matches("\"zz\""), "unknown formats are annotations");
  }

  @Test
  void patternsAreWholeMatchesWithinTheLengthBoundsAndNeedNoEscape() throws Exception {
    ByteDfa dfa = compile("{'type':'string','pattern':'^[a-c\\\"]+x$','maxLength':4}");
    assertTrue(dfa.matches("\"abx\""));
    assertFalse(dfa.matches("\"abcax\""), "maxLength");
    assertFalse(dfa.matches("\"a\\\"x\""), "a quote needs an escape: not written");
    assertFalse(dfa.matches("\"zabx\""));
    // zod 4's own patterns for .email(), .datetime() and .uuid(), beside their formats.
    String zodEmail = "^(?:[A-Za-z0-9_'+\\-]+\\.)*[A-Za-z0-9_'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9]"
        + "[A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$";
    ByteDfa email = ByteDfa.of(JsonSchemas.compile(JSON.createObjectNode().put("type", "string")
        .put("format", "email").put("pattern", zodEmail)));
    assertTrue(email.matches("\"ab.c@d-e.fg\""));
    assertFalse(email.matches("\"ab@c\""));
    String zodUuid = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|"
        + "00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$";
    ByteDfa uuid = compile("{'type':'string','format':'uuid','pattern':'" + zodUuid + "'}");
    assertTrue(uuid.matches("\"123e4567-e89b-42d3-a456-426614174000\""));
    assertFalse(uuid.matches("\"123E4567-e89b-42d3-a456-426614174000\""), "our uuid format writes lower case");
  }

  @Test
  void nullableAddsNullAndAnnotationsAreIgnored() throws Exception {
    ByteDfa dfa = compile("{'type':'string','nullable':true,'maxLength':1,'title':'t','description':'d',"
        + "'default':'x','examples':['y'],'$comment':'c','$id':'i','$schema':'s'}");
    assertTrue(dfa.matches("null") && dfa.matches("\"a\""));
    assertFalse(compile("{'type':'integer','nullable':false}").matches("null"));
  }

  @Test
  void countsAreAcceptedWhereTheyHoldAndRefusedByNameOtherwise() throws Exception {
    assertDoesNotThrow(() -> compile("{'type':'object','properties':{'a':{'type':'integer'},'b':{'type':'integer'}},"
        + "'required':['a'],'additionalProperties':false,'minProperties':1,'maxProperties':2}"));
    assertEquals("minProperties", assertThrows(RefusedRequestException.class, () -> compile(
        "{'type':'object','properties':{'a':{'type':'integer'}},'minProperties':1}")).what());
    assertEquals("maxProperties", assertThrows(RefusedRequestException.class, () -> compile(
        "{'type':'object','properties':{'a':{'type':'integer'},'b':{'type':'integer'}},'additionalProperties':false,"
        + "'maxProperties':1}")).what());
    assertDoesNotThrow(() -> compile("{'type':'array','uniqueItems':false}"));
    assertDoesNotThrow(() -> compile("{'type':'array','uniqueItems':true,'maxItems':1}"));
    assertEquals("uniqueItems", assertThrows(RefusedRequestException.class, () -> compile(
        "{'type':'array','items':{'type':'integer'},'uniqueItems':true}")).what());
    assertEquals("multipleOf", assertThrows(RefusedRequestException.class, () -> compile(
        "{'type':'integer','multipleOf':3}")).what());
    assertEquals("minimum", assertThrows(RefusedRequestException.class, () -> compile(
        "{'minimum':3}")).what());
  }

  /** A random string of the regex's language: a walk that stops at an accepting state now and then. */
  private static String walk(String regex, Random random) {
    Automaton a = Regexes.parse(regex);
    Automata.minimize(a);
    StringBuilder out = new StringBuilder();
    State s = a.getInitialState();
    while (true) {
      List<Transition> moves = new ArrayList<>(s.getTransitions());
      if (s.isAccept() && (moves.isEmpty() || random.nextInt(4) == 0)) return out.toString();
      Transition t = moves.get(random.nextInt(moves.size()));
      out.append((char) (t.getMin() + random.nextInt(t.getMax() - t.getMin() + 1)));
      s = t.getDest();
    }
  }
}
