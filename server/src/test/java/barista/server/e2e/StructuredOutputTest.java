package barista.server.e2e;

import static barista.server.e2e.RealServer.JSON;
import static barista.server.e2e.RealServer.body;
import static barista.server.e2e.RealServer.userSays;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Structured outputs on the tiny model with random weights: its free text is gibberish, so only the constraint
 * can make the output valid. Every output is checked by an independent validator (networknt's JSON schema
 * validator, java.util.regex), and must end with EOS (finish_reason stop) within max_tokens.
 */
class StructuredOutputTest {
  private static final int REQUESTS = 50;
  private static final int MAX_TOKENS = 200;
  static final String NESTED_SCHEMA = "{\"type\":\"object\",\"properties\":{"
      + "\"name\":{\"type\":\"string\",\"maxLength\":12},"
      + "\"age\":{\"type\":\"integer\"},"
      + "\"role\":{\"enum\":[\"admin\",\"user\",\"guest\"]},"
      + "\"address\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
      + "\"zip\":{\"type\":[\"string\",\"null\"]}},\"required\":[\"city\"],\"additionalProperties\":false},"
      + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":5},"
      + "\"minItems\":1,\"maxItems\":3},"
      + "\"score\":{\"anyOf\":[{\"type\":\"number\"},{\"$ref\":\"#/$defs/Missing\"}]},"
      + "\"active\":{\"type\":\"boolean\"}},"
      + "\"required\":[\"name\",\"role\",\"address\",\"tags\"],\"additionalProperties\":false,"
      + "\"$defs\":{\"Missing\":{\"const\":\"n/a\"}}}";

  private static RealServer server;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    // No prefix cache: the streamed and whole requests of one seed then compute the same shapes (a cached prefix
    // leaves a shorter prefill, whose float32 rounding can flip a temperature-1 draw now and then).
    server = RealServer.start("--no-enable-prefix-caching");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** 50 chat requests at once (different seeds), each checked by {@code check} on its content. */
  private void fifty(Map<String, Object> extra, Consumer<String> check) throws Exception {
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      Map<String, Object> fields = new java.util.LinkedHashMap<>(Map.of("messages", userSays("Answer " + i),
          "max_tokens", MAX_TOKENS, "temperature", 1.0, "seed", i));
      fields.putAll(extra);
      String json = JSON.writeValueAsString(fields);
      responses.add(client.sendAsync(HttpRequest.newBuilder(server.uri("/v1/chat/completions"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : responses) {
      HttpResponse<String> r = f.get();
      assertEquals(200, r.statusCode(), r.body());
      JsonNode choice = JSON.readTree(r.body()).get("choices").get(0);
      assertEquals("stop", choice.get("finish_reason").asText(), r.body());
      assertTrue(JSON.readTree(r.body()).get("usage").get("completion_tokens").asInt() <= MAX_TOKENS);
      check.accept(choice.get("message").get("content").asText());
    }
  }

  private static JsonNode parse(String text) {
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }

  @Test
  void jsonObjectGivesJsonObjects() throws Exception {
    fifty(Map.of("response_format", Map.of("type", "json_object")),
        text -> assertTrue(parse(text).isObject(), text));
  }

  @Test
  void jsonSchemaOutputValidatesAgainstTheSchema() throws Exception {
    JsonNode schemaNode = JSON.readTree(NESTED_SCHEMA);
    JsonSchema validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schemaNode);
    fifty(Map.of("response_format", Map.of("type", "json_schema", "json_schema",
        Map.of("name", "person", "schema", schemaNode, "strict", true))), text -> {
          Set<ValidationMessage> errors = validator.validate(parse(text));
          assertTrue(errors.isEmpty(), text + " -> " + errors);
        });
  }

  @Test
  void choiceGivesOneOfTheChoices() throws Exception {
    List<String> choices = List.of("yes", "no", "maybe so", "ünïcödé ✓");
    fifty(Map.of("structured_outputs", Map.of("choice", choices)),
        text -> assertTrue(choices.contains(text), text));
  }

  @Test
  void regexOutputMatchesTheRegex() throws Exception {
    String regex = "(\\d{3}-){1,2}[A-Z][a-z]+( [a-z]{2,8}){0,3}\\.";
    fifty(Map.of("guided_regex", regex), text -> assertTrue(Pattern.matches(regex, text), text));
  }

  @Test
  void completionsTakeTheSameConstraints() throws Exception {
    JsonNode r = server.postOk("/v1/completions", body("prompt", "x", "max_tokens", 50, "seed", 3,
        "structured_outputs", Map.of("regex", "[ab]{3,6}")));
    assertEquals("stop", r.get("choices").get(0).get("finish_reason").asText());
    assertTrue(Pattern.matches("[ab]{3,6}", r.get("choices").get(0).get("text").asText()), r.toString());
  }

  @Test
  void streamingGivesTheSameTextAsNotStreamingWithTheSameSeed() throws Exception {
    for (int seed = 0; seed < 5; seed++) {
      Object format = Map.of("type", "json_schema", "json_schema", Map.of("name", "p", "schema",
          JSON.readTree(NESTED_SCHEMA)));
      JsonNode whole = server.postOk("/v1/chat/completions", body("messages", userSays("hi"), "max_tokens", 120,
          "temperature", 1.0, "seed", seed, "response_format", format));
      List<JsonNode> events = server.postStream("/v1/chat/completions", body("messages", userSays("hi"),
          "max_tokens", 120, "temperature", 1.0, "seed", seed, "response_format", format, "stream", true));
      StringBuilder streamed = new StringBuilder();
      String finish = null;
      for (JsonNode e : events) {
        JsonNode c = e.get("choices").get(0);
        if (c.get("delta").has("content")) streamed.append(c.get("delta").get("content").asText());
        if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
      }
      assertEquals(whole.get("choices").get(0).get("message").get("content").asText(), streamed.toString());
      assertEquals(whole.get("choices").get(0).get("finish_reason").asText(), finish);
    }
  }

  @Test
  void badConstraintsAre400NamingTheProblemAndTheServerKeepsServing() throws Exception {
    String[][] cases = {
        {"{\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
            + "{\"type\":\"integer\",\"multipleOf\":3}}}}", "multipleOf", "response_format.json_schema.schema"},
        {"{\"response_format\":{\"type\":\"bogus\"}}", "bogus", "response_format.type"},
        {"{\"guided_regex\":\"(a)\\\\1\"}", "back-reference", "guided_regex"},
        {"{\"guided_json\":{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/$defs/A\"}},"
            + "\"$defs\":{\"A\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/A\"}}}}}", "recursive",
            "guided_json"},
        {"{\"guided_json\":\"{not json\"}", "not valid JSON", "guided_json"},
        {"{\"structured_outputs\":{\"grammar\":\"root ::= x\"}}", "grammar", "structured_outputs.grammar"},
        {"{\"guided_choice\":[]}", "non-empty", "guided_choice"},
        {"{\"guided_regex\":\"a\",\"guided_choice\":[\"b\"]}", "only one", "guided_choice"},
        {"{\"guided_regex\":\"a{2000}\"}", "above", "guided_regex"},
        {"{\"guided_regex\":\"a\",\"min_tokens\":2}", "min_tokens", "min_tokens"},
    };
    for (String[] c : cases) {
      JsonNode request = JSON.readTree(c[0]);
      ((com.fasterxml.jackson.databind.node.ObjectNode) request).set("messages", JSON.valueToTree(userSays("hi")));
      HttpResponse<String> r = server.post("/v1/chat/completions", request.toString());
      assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
      JsonNode error = JSON.readTree(r.body()).get("error");
      assertTrue(error.get("message").asText().contains(c[1]), c[0] + " -> " + r.body());
      assertEquals(c[2], error.get("param").asText(), r.body());
    }
    JsonNode ok = server.postOk("/v1/chat/completions", body("messages", userSays("hi"), "max_tokens", 5));
    assertEquals(1, ok.get("choices").size());
  }
}
