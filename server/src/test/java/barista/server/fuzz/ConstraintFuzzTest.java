package barista.server.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import barista.server.http.ApiException;
import barista.server.openai.StructuredOutput;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Fuzzed JSON schemas and regexes through the constraint compiler: each either compiles or is refused with a 400
 * (an ApiException naming the field), never another exception, never a hang ({@code JAZZER_FUZZ=1} fuzzes; without
 * it the test replays its seeds).
 */
class ConstraintFuzzTest {
  private static final String[] KEYWORDS = {"type", "properties", "required", "additionalProperties", "items",
      "enum", "const", "anyOf", "minItems", "maxItems", "minLength", "maxLength", "$ref", "$defs", "pattern",
      "title", "oneOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "format", "nullable",
      "minProperties", "maxProperties", "uniqueItems"};
  private static final String[] FORMATS = {"date", "date-time", "time", "uuid", "email", "ipv4", "ipv6", "uri",
      "hostname", "color"};
  private static final String[] TYPES = {"object", "array", "string", "number", "integer", "boolean", "null", "x"};

  @FuzzTest(maxDuration = "60s")
  @DictionaryEntries({"\"type\"", "\"properties\"", "\"items\"", "\"$ref\"", "#/$defs/", "(", ")", "[", "]", "{",
      "}", "*", "+", "?", "|", "\\d", "\\1", "(?=", "{1000}"})
  void everyConstraintCompilesOrIsA400(FuzzedDataProvider data) {
    StructuredOutput spec = data.consumeBoolean()
        ? StructuredOutput.ofSchema(schema(data, 0), "guided_json")
        : StructuredOutput.ofRegex(data.consumeString(40), "guided_regex");
    try {
      spec.automaton();
    } catch (ApiException e) {
      assertEquals(400, e.status().code());
    }
  }

  private static JsonNode schema(FuzzedDataProvider data, int depth) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode node = f.objectNode();
    int fields = data.consumeInt(0, depth > 3 ? 1 : 4);
    for (int i = 0; i < fields; i++) {
      String key = data.pickValue(KEYWORDS);
      switch (key) {
        case "type" -> node.put(key, data.pickValue(TYPES));
        case "properties", "$defs" -> {
          ObjectNode props = node.putObject(key);
          int n = data.consumeInt(0, 3);
          for (int j = 0; j < n; j++) props.set(data.consumeString(3), schema(data, depth + 1));
        }
        case "items", "additionalProperties" -> node.set(key, data.consumeBoolean() ? schema(data, depth + 1)
            : f.booleanNode(data.consumeBoolean()));
        case "anyOf", "oneOf" -> node.putArray(key).add(schema(data, depth + 1)).add(schema(data, depth + 1));
        case "required", "enum" -> node.putArray(key).add(data.consumeString(3)).add(data.consumeInt(-2, 2));
        case "const" -> node.set(key, FuzzedJson.value(data, 3));
        case "$ref" -> node.put(key, "#/$defs/" + data.consumeString(3));
        case "format" -> node.put(key, data.pickValue(FORMATS));
        case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum" -> node.set(key, switch (data.consumeInt(0, 3)) {
          case 0 -> f.numberNode(data.consumeLong());
          case 1 -> f.numberNode(data.consumeDouble());
          case 2 -> f.booleanNode(data.consumeBoolean());
          default -> f.numberNode(data.consumeInt(-400, 400));
        });
        case "nullable", "uniqueItems" -> node.put(key, data.consumeBoolean());
        default -> node.set(key, data.consumeBoolean() ? f.numberNode(data.consumeInt(-1, 2000)) : f.textNode("a"));
      }
    }
    return node;
  }
}
