package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * tool_choice auto over a scripted model output in DeepSeek's R1 format, read by --tool-call-parser deepseek_v3,
 * streamed and not; and the tool request errors. The fake engine writes the script one character per token, so
 * the markers arrive split across many deltas.
 */
class ToolCallsTest {
  private static final String TOOLS = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
      + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}},"
      + "{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}]";
  private static final String USER = "\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}]";
  static final String SCRIPT = "Let me look.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n"
      + "```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n"
      + "```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(1024, "--enable-auto-tool-choice", "--tool-call-parser", "deepseek_v3");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static void assertTheTwoCalls(JsonNode calls) {
    assertEquals(2, calls.size(), calls.toString());
    assertEquals("get_weather", calls.get(0).get("function").get("name").asText());
    assertEquals("{\"city\": \"Paris\"}", calls.get(0).get("function").get("arguments").asText());
    assertEquals("get_time", calls.get(1).get("function").get("name").asText());
    assertEquals("{}", calls.get(1).get("function").get("arguments").asText());
    for (JsonNode call : calls) {
      assertTrue(call.get("id").asText().matches("call_[0-9a-f]{24}"), call.toString());
      assertEquals("function", call.get("type").asText());
    }
    assertTrue(!calls.get(0).get("id").asText().equals(calls.get(1).get("id").asText()));
  }

  @Test
  void autoReadsTheR1ToolCallFormat() throws Exception {
    server.engine.reply = SCRIPT;
    HttpResponse<String> r = server.post("/v1/chat/completions", "{" + USER + "," + TOOLS + "}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode choice = TestServer.json(r).get("choices").get(0);
    assertEquals("tool_calls", choice.get("finish_reason").asText(), r.body());
    assertEquals("Let me look.", choice.get("message").get("content").asText());
    assertTheTwoCalls(choice.get("message").get("tool_calls"));
    GenerationRequest_hasTools();
  }

  /** The tool definitions reached the template (the fake model writes their names first). */
  private static void GenerationRequest_hasTools() throws Exception {
    int[] prompt = server.engine.arrivals.take().promptTokenIds();
    StringBuilder text = new StringBuilder();
    for (int id : prompt) text.append((char) id);
    assertTrue(text.toString().startsWith("tools: get_weather get_time\n"), text.toString());
  }

  @Test
  void autoStreamsNameFirstThenArgumentsAndMatchesTheWholeResponse() throws Exception {
    server.engine.reply = SCRIPT;
    server.engine.arrivals.clear();
    HttpResponse<String> r = server.post("/v1/chat/completions", "{" + USER + "," + TOOLS
        + ",\"stream\":true}");
    assertEquals(200, r.statusCode(), r.body());
    StringBuilder content = new StringBuilder();
    List<ObjectNode> deltas = new ArrayList<>();
    String finish = null;
    for (JsonNode e : TestServer.events(r)) {
      JsonNode c = e.get("choices").get(0);
      JsonNode delta = c.get("delta");
      if (delta.hasNonNull("content")) content.append(delta.get("content").asText());
      if (delta.has("tool_calls")) for (JsonNode d : delta.get("tool_calls")) deltas.add((ObjectNode) d);
      if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
    }
    assertEquals("tool_calls", finish);
    assertEquals("Let me look.", content.toString());
    assertTrue(deltas.get(0).get("function").has("name"), "the name comes first: " + deltas.get(0));
    assertTheTwoCalls(merge(deltas));
  }

  /** What a client does with the stream: calls by index, arguments concatenated. */
  static ArrayNode merge(List<ObjectNode> deltas) {
    ArrayNode calls = Json.MAPPER.createArrayNode();
    for (ObjectNode d : deltas) {
      int index = d.get("index").asInt();
      if (index == calls.size()) {
        ObjectNode call = calls.addObject();
        call.put("id", d.get("id").asText());
        call.put("type", d.get("type").asText());
        call.putObject("function").put("name", d.get("function").get("name").asText()).put("arguments", "");
      }
      ObjectNode fn = (ObjectNode) calls.get(index).get("function");
      fn.put("arguments", fn.get("arguments").asText() + d.get("function").get("arguments").asText());
    }
    return calls;
  }

  @Test
  void plainTextUnderAutoIsContentWithFinishStop() throws Exception {
    server.engine.reply = "No tools needed <｜tool not a marker";
    JsonNode r = TestServer.json(server.post("/v1/chat/completions", "{" + USER + "," + TOOLS + "}"));
    JsonNode choice = r.get("choices").get(0);
    assertEquals("No tools needed <｜tool not a marker", choice.get("message").get("content").asText());
    assertTrue(!choice.get("message").has("tool_calls"), r.toString());
    assertEquals("stop", choice.get("finish_reason").asText());
  }

  @Test
  void toolCallHistoryIsAccepted() throws Exception {
    server.engine.reply = "ok";
    HttpResponse<String> r = server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"w?\"},"
        + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
        + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
        + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"sunny\"}]," + TOOLS
        + ",\"tool_choice\":\"none\"}");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("stop", TestServer.json(r).get("choices").get(0).get("finish_reason").asText());
  }

  @Test
  void badToolRequestsAre400() throws Exception {
    String[][] cases = {
        {"{" + USER + "," + TOOLS + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}}",
            "tool_choice", "nope"},
        {"{" + USER + ",\"tool_choice\":\"required\"}", "tool_choice", "needs tools"},
        {"{" + USER + "," + TOOLS + ",\"tool_choice\":\"sometimes\"}", "tool_choice", "sometimes"},
        {"{" + USER + ",\"tools\":[{\"type\":\"retrieval\"}]}", "tools[0].type", "function"},
        {"{" + USER + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]}", "tools[0].function.name",
            "letters"},
        {"{" + USER + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":"
            + "\"object\",\"properties\":{\"x\":{\"type\":\"integer\",\"multipleOf\":2}}}}}],"
            + "\"tool_choice\":\"required\"}",
            "tools", "multipleOf"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[]}]}", "messages[0].tool_calls",
            "assistant"},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = server.post("/v1/chat/completions", c[0]);
      assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
      JsonNode error = TestServer.json(r).get("error");
      assertEquals(c[1], error.get("param").asText(), r.body());
      assertTrue(error.get("message").asText().contains(c[2]), r.body());
    }
    HttpResponse<String> completions = server.post("/v1/completions", "{\"prompt\":\"x\"," + TOOLS + "}");
    assertEquals(400, completions.statusCode());
  }

  /** Requests that share one compile of a bad schema all get its 400 (never a 500), and nothing is cached. */
  @Test
  void concurrentIdenticalBadSchemasAllGet400() throws Exception {
    String slow = "{\"type\":\"string\",\"maxLength\":1024}"; // a moment to compile: the others wait on it
    String body = "{" + USER + ",\"guided_json\":{\"type\":\"object\",\"properties\":{\"a\":" + slow + ",\"b\":"
        + slow + ",\"c\":" + slow + ",\"z\":{\"type\":\"integer\",\"multipleOf\":2}}}}";
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 8; j++) {
        responses.add(server.client.sendAsync(java.net.http.HttpRequest.newBuilder(server.uri("/v1/chat/completions"))
            .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
            .build(), HttpResponse.BodyHandlers.ofString()));
      }
    }
    for (var f : responses) {
      HttpResponse<String> r = f.get();
      assertEquals(400, r.statusCode(), r.body());
      JsonNode error = TestServer.json(r).get("error");
      assertEquals("guided_json", error.get("param").asText());
      assertTrue(error.get("message").asText().contains("'multipleOf'"), r.body());
    }
  }

  @Test
  void autoNeedsTheServerFlags() throws Exception {
    try (TestServer plain = new TestServer()) {
      HttpResponse<String> r = plain.post("/v1/chat/completions", "{" + USER + "," + TOOLS + "}");
      assertEquals(400, r.statusCode(), r.body());
      assertTrue(TestServer.json(r).get("error").get("message").asText().contains("--enable-auto-tool-choice"));
      HttpResponse<String> tokenize = plain.post("/tokenize", "{" + USER + "," + TOOLS + "}");
      assertEquals(200, tokenize.statusCode(), "/tokenize generates nothing: " + tokenize.body());
    }
  }
}
