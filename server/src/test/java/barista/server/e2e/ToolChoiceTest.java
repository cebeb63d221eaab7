package barista.server.e2e;

import static barista.server.e2e.RealServer.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * tool_choice required and named on the tiny random model: only the constraint makes the calls valid, and every
 * call's arguments are checked against its tool's schema by networknt's validator, streamed and not; the tool
 * definitions and a tool round trip reach the model through the tool-aware template exactly as Jinja2 renders it.
 */
class ToolChoiceTest {
  private static final String WEATHER_PARAMS = "{\"type\":\"object\",\"properties\":{"
      + "\"city\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":16},\"unit\":{\"enum\":[\"c\",\"f\"]},"
      + "\"days\":{\"type\":\"integer\"}},\"required\":[\"city\",\"unit\"],\"additionalProperties\":false}";
  private static final String TIME_PARAMS = "{\"type\":\"object\",\"properties\":{\"zone\":{\"type\":\"string\","
      + "\"maxLength\":8}},\"required\":[\"zone\"]}";
  private static RealServer server;
  private static List<Object> tools;
  private static Map<String, JsonSchema> validators;

  @BeforeAll
  static void start() throws Exception {
    // No prefix cache, so a seed's streamed and whole requests compute the same shapes (see StructuredOutputTest).
    server = RealServer.start("--enable-auto-tool-choice", "--tool-call-parser", "deepseek_v3",
        "--max-model-len", "2048", "--no-enable-prefix-caching");
    tools = List.of(tool("get_weather", WEATHER_PARAMS), tool("get_time", TIME_PARAMS));
    JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    validators = Map.of("get_weather", factory.getSchema(JSON.readTree(WEATHER_PARAMS)),
        "get_time", factory.getSchema(JSON.readTree(TIME_PARAMS)));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Map<String, Object> tool(String name, String params) throws Exception {
    return Map.of("type", "function", "function", Map.of("name", name, "parameters", JSON.readTree(params)));
  }

  private static String request(Object toolChoice, int seed, boolean stream, Boolean parallel) throws Exception {
    Map<String, Object> body = new java.util.LinkedHashMap<>(Map.of("messages", RealServer.userSays("Weather?"),
        "tools", tools, "tool_choice", toolChoice, "max_tokens", 200, "temperature", 1.0, "seed", seed,
        "stream", stream));
    if (parallel != null) body.put("parallel_tool_calls", parallel);
    return JSON.writeValueAsString(body);
  }

  private static void assertValidCalls(JsonNode calls, String onlyName) {
    assertTrue(calls.isArray() && calls.size() >= 1, String.valueOf(calls));
    for (JsonNode call : calls) {
      assertTrue(call.get("id").asText().startsWith("call_"), call.toString());
      assertEquals("function", call.get("type").asText());
      String name = call.get("function").get("name").asText();
      if (onlyName != null) assertEquals(onlyName, name);
      JsonNode args;
      try {
        args = JSON.readTree(call.get("function").get("arguments").asText());
      } catch (Exception e) {
        throw new AssertionError("arguments are not JSON: " + call, e);
      }
      assertTrue(validators.get(name).validate(args).isEmpty(), call + " -> " + validators.get(name).validate(args));
    }
  }

  /** The calls of a stream, as a client accumulates them; checks the name comes in each call's first delta. */
  private static JsonNode streamedCalls(List<JsonNode> events, String[] finish) {
    ArrayNode calls = JSON.createArrayNode();
    for (JsonNode e : events) {
      JsonNode c = e.get("choices").get(0);
      if (!c.get("finish_reason").isNull()) finish[0] = c.get("finish_reason").asText();
      JsonNode deltas = c.get("delta").get("tool_calls");
      if (deltas == null) continue;
      for (JsonNode d : deltas) {
        int index = d.get("index").asInt();
        if (index == calls.size()) {
          assertTrue(d.get("function").has("name") && d.has("id"), "first delta of a call: " + d);
          ObjectNode call = calls.addObject();
          call.put("id", d.get("id").asText()).put("type", d.get("type").asText());
          call.putObject("function").put("name", d.get("function").get("name").asText()).put("arguments", "");
        }
        ObjectNode fn = (ObjectNode) calls.get(index).get("function");
        fn.put("arguments", fn.get("arguments").asText() + d.get("function").get("arguments").asText());
      }
    }
    return calls;
  }

  private static List<JsonNode> withoutIds(JsonNode calls) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode c : calls) out.add(c.get("function"));
    return out;
  }

  @Test
  void requiredGivesValidToolCallsStreamedAndNot() throws Exception {
    for (int seed = 0; seed < 10; seed++) {
      JsonNode r = server.postOk("/v1/chat/completions", request("required", seed, false, null));
      JsonNode choice = r.get("choices").get(0);
      assertEquals("tool_calls", choice.get("finish_reason").asText(), r.toString());
      assertTrue(choice.get("message").get("content").isNull(), r.toString());
      JsonNode calls = choice.get("message").get("tool_calls");
      assertValidCalls(calls, null);
      String[] finish = new String[1];
      JsonNode streamed = streamedCalls(server.postStream("/v1/chat/completions", request("required", seed, true,
          null)), finish);
      assertEquals("tool_calls", finish[0]);
      assertEquals(withoutIds(calls), withoutIds(streamed));
    }
  }

  @Test
  void parallelToolCallsFalseGivesOneCall() throws Exception {
    for (int seed = 0; seed < 5; seed++) {
      JsonNode r = server.postOk("/v1/chat/completions", request("required", seed, false, false));
      assertEquals(1, r.get("choices").get(0).get("message").get("tool_calls").size(), r.toString());
    }
  }

  @Test
  void namedFunctionGivesThatFunctionsCallStreamedAndNot() throws Exception {
    Object named = Map.of("type", "function", "function", Map.of("name", "get_time"));
    for (int seed = 0; seed < 10; seed++) {
      JsonNode r = server.postOk("/v1/chat/completions", request(named, seed, false, null));
      JsonNode choice = r.get("choices").get(0);
      assertEquals("tool_calls", choice.get("finish_reason").asText(), r.toString());
      JsonNode calls = choice.get("message").get("tool_calls");
      assertEquals(1, calls.size());
      assertValidCalls(calls, "get_time");
      String[] finish = new String[1];
      JsonNode streamed = streamedCalls(server.postStream("/v1/chat/completions", request(named, seed, true, null)),
          finish);
      assertEquals("tool_calls", finish[0]);
      assertEquals(withoutIds(calls), withoutIds(streamed));
    }
  }

  /** The fixture's tool round trip, rendered by the server, gives the tokens of Jinja2's rendering of it. */
  @Test
  void toolRoundTripRendersAsJinja2Does() throws Exception {
    Path fixtures = Path.of("..", "engine", "src", "test", "resources", "fixtures", "chat-template");
    JsonNode inputs = JSON.readTree(fixtures.resolve("tools-round-trip.json").toFile());
    String expected = Files.readString(fixtures.resolve("tools-round-trip.txt"), StandardCharsets.UTF_8);
    ObjectNode body = JSON.createObjectNode();
    body.set("messages", inputs.get("messages"));
    body.set("tools", inputs.get("tools"));
    body.put("tool_choice", "auto");
    JsonNode rendered = server.postOk("/tokenize", body.toString());
    JsonNode reference = server.postOk("/tokenize", JSON.writeValueAsString(Map.of("prompt", expected,
        "add_special_tokens", false)));
    assertEquals(reference.get("tokens"), rendered.get("tokens"));
    JsonNode answer = server.postOk("/v1/chat/completions", JSON.writeValueAsString(Map.of(
        "messages", inputs.get("messages"), "tools", inputs.get("tools"), "max_tokens", 5)));
    assertEquals(reference.get("count").asInt(), answer.get("usage").get("prompt_tokens").asInt());
  }
}
