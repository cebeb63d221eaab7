package barista.engine.constraint;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Compile cost: a large enum is one string union and a wide object one automaton minimized once (both were
 * quadratic), and a compile stops at its budget or when cancelled, whatever it is doing. Compile times are printed
 * here and measured end to end by {@code scripts/hostile-clients.sh schemas} (docs/reliability.md), not asserted:
 * this box's load varies them.
 */
class CompileCostTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A realistic wide object: 200 properties of mixed types, every third one required. */
  static ObjectNode wideObject(int properties) {
    ObjectNode schema = JSON.createObjectNode().put("type", "object");
    ObjectNode props = schema.putObject("properties");
    ArrayNode required = schema.putArray("required");
    String[] types = {"string", "integer", "number", "boolean"};
    for (int i = 0; i < properties; i++) {
      String name = "field_" + i;
      ObjectNode p = props.putObject(name).put("type", types[i % types.length]);
      if (i % 4 == 0) p.put("maxLength", 64);
      if (i % 3 == 0) required.add(name);
    }
    schema.put("additionalProperties", false);
    return schema;
  }

  static ObjectNode largeEnum(int values) {
    ObjectNode schema = JSON.createObjectNode();
    ArrayNode list = schema.putArray("enum");
    for (int i = 0; i < values; i++) list.add("value-" + Integer.toHexString(i * 31) + i);
    return schema;
  }

  /** A large enum is one string union (linear in its values), and accepts exactly its values. */
  @Test
  void aLargeEnumAcceptsExactlyItsValues() {
    ByteDfa dfa = ByteDfa.of(JsonSchemas.compile(largeEnum(2_000)));
    assertTrue(dfa.matches("\"value-" + Integer.toHexString(31 * 5) + "5\""));
    assertTrue(dfa.matches("\"value-" + Integer.toHexString(31 * 1999) + "1999\""));
    assertFalse(dfa.matches("\"value-\""));
    assertFalse(dfa.matches("\"value-" + Integer.toHexString(31 * 2000) + "2000\""));
  }

  /** The wide-object construction (each member once per comma context, minimized once) accepts what it should. */
  @Test
  void aWideObjectAcceptsItsMembersInOrderWithTheRequiredOnes() {
    ByteDfa dfa = ByteDfa.of(JsonSchemas.compile(wideObject(5)));
    assertTrue(dfa.matches("{\"field_0\":\"a\",\"field_3\":true}"));
    assertTrue(dfa.matches("{\"field_0\":\"a\",\"field_1\":7,\"field_3\":true,\"field_4\":\"\"}"));
    assertFalse(dfa.matches("{\"field_0\":\"a\"}"), "field_3 is required");
    assertFalse(dfa.matches("{\"field_3\":true,\"field_0\":\"a\"}"), "members come in order");
    assertFalse(dfa.matches("{\"field_0\":\"a\",,\"field_3\":true}"));
    assertFalse(dfa.matches("{,\"field_0\":\"a\",\"field_3\":true}"));
    ByteDfa optional = ByteDfa.of(JsonSchemas.compile(JSON.createObjectNode().put("type", "object")
        .set("properties", JSON.createObjectNode().set("a", JSON.createObjectNode().put("type", "integer")))));
    assertTrue(optional.matches("{}"));
    assertTrue(optional.matches("{\"a\":1}"));
    assertFalse(optional.matches("{,}"));
  }

  /**
   * The two yardsticks, a 200-property object and a 10,000-value enum, compiled to byte automata three times
   * each; the thread CPU time of each compile is printed (the first is JIT-cold), and each automaton accepts a
   * document of its schema.
   */
  @Test
  void theWideObjectAndTheLargeEnumCompileAndTheirCostIsPrinted() {
    java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
    StringBuilder wideDocument = new StringBuilder("{");
    for (int i = 0; i < 200; i += 3) {
      String[] values = {"\"x\"", "1", "2.5", "true"};
      wideDocument.append(i == 0 ? "" : ",").append("\"field_").append(i).append("\":").append(values[i % 4]);
    }
    wideDocument.append('}');
    for (int round = 0; round < 3; round++) {
      long start = cpu.getCurrentThreadCpuTime();
      ByteDfa wide = ByteDfa.of(JsonSchemas.compile(wideObject(200)));
      long wideNanos = cpu.getCurrentThreadCpuTime() - start;
      start = cpu.getCurrentThreadCpuTime();
      ByteDfa values = ByteDfa.of(JsonSchemas.compile(largeEnum(10_000)));
      long enumNanos = cpu.getCurrentThreadCpuTime() - start;
      System.out.printf("Compile CPU, round %d: 200-property object %.0f ms (%d states), 10,000-value enum %.0f ms "
          + "(%d states)%n", round, wideNanos / 1e6, wide.numStates(), enumNanos / 1e6, values.numStates());
      assertTrue(wide.matches(wideDocument.toString()), wideDocument.toString());
      assertTrue(values.matches("\"value-" + Integer.toHexString(31 * 9999) + "9999\""));
    }
  }

  /** Its automaton grows with the properties, not their square (the construction once was quadratic). */
  @Test
  void aWideObjectsAutomatonIsLinearInItsProperties() {
    int hundred = ByteDfa.of(JsonSchemas.compile(wideObject(100))).numStates();
    int twoHundred = ByteDfa.of(JsonSchemas.compile(wideObject(200))).numStates();
    assertTrue(twoHundred <= 2.1 * hundred, hundred + " states for 100 properties, " + twoHundred + " for 200");
  }

  /**
   * The flat pipeline (subset construction, UTF-8 expansion into shared continuation nodes) against java.util.regex
   * on text of one- to three-byte characters, with classes whose ranges cut through each encoded length.
   */
  @Test
  void byteAutomataMatchWhatJavaRegexMatchesAcrossEncodedLengths() {
    String[] regexes = {"[^a]+", "[\\u00e0-\\u4e00]x?", ".{2,3}", "[\\u0100-\\u017f\\u0800-\\uffee]*a",
        "(a|\\u00e9|\\u4e2d)*\\u4e2d", "[\\u07ff\\u0800]+|[^\\u0080-\\u07ff]{2}", "\\S\\s\\W"};
    char[] alphabet = {'a', 'x', ' ', '\n', '\u007f', '\u0080', '\u00e0', '\u00e9', '\u017f', '\u0180', '\u07ff',
        '\u0800', '\u4e00', '\u4e2d', '\uffee', '\uffef'};
    java.util.Random random = new java.util.Random(3);
    for (String regex : regexes) {
      ByteDfa dfa = ByteDfa.of(Regexes.parse(regex));
      java.util.regex.Pattern reference = java.util.regex.Pattern.compile(regex);
      for (int i = 0; i < 3000; i++) {
        StringBuilder text = new StringBuilder();
        for (int len = random.nextInt(6), j = 0; j < len; j++) text.append(alphabet[random.nextInt(alphabet.length)]);
        assertTrue(reference.matcher(text).matches() == dfa.matches(text.toString()), regex + " on '" + text + "'");
      }
    }
  }

  @Test
  void aCompileStopsAtItsBudgetAndWhenCancelled() {
    // (a|b)*a(a|b){17}: a DFA of 2^18 states, beyond what a budget of 50 ms lets the subset construction build.
    String exploding = "(a|b)*a(a|b){17}";
    long start = System.nanoTime();
    CompileBudget.Stopped late = assertThrows(CompileBudget.Stopped.class,
        () -> new CompileBudget(TimeUnit.MILLISECONDS.toNanos(50)).run(() -> ByteDfa.of(Regexes.parse(exploding))));
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertFalse(late.cancelled());
    assertTrue(took < 1000, "stopped " + took + " ms after a 50 ms budget");
    CompileBudget cancelled = new CompileBudget(TimeUnit.SECONDS.toNanos(60));
    cancelled.cancel();
    CompileBudget.Stopped stopped = assertThrows(CompileBudget.Stopped.class,
        () -> cancelled.run(() -> ByteDfa.of(Regexes.parse(exploding))));
    assertTrue(stopped.cancelled());
  }
}
