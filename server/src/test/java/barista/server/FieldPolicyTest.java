package barista.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.config.ServeOptions;
import barista.engine.sampling.SamplingParams;
import barista.scheduler.GenerationRequest;
import barista.server.endpoints.ServerContext;
import barista.server.http.Json;
import barista.server.openai.ChatRequest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** vLLM's field policy, field by field: accepted, honoured (what reaches the engine), or refused naming it. */
class FieldPolicyTest {
  private static final String USER = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @BeforeEach
  void clear() {
    server.engine.arrivals.clear();
  }

  private static GenerationRequest arrived(HttpResponse<String> r) throws Exception {
    assertEquals(200, r.statusCode(), r.body());
    GenerationRequest g = server.engine.arrivals.poll(10, TimeUnit.SECONDS);
    assertTrue(g != null, "nothing reached the engine");
    return g;
  }

  @Test
  void openAisBookkeepingFieldsAreAccepted() throws Exception {
    for (String field : List.of("\"store\":true", "\"metadata\":{\"k\":\"v\"}", "\"service_tier\":\"auto\"",
        "\"prompt_cache_key\":\"p\"", "\"safety_identifier\":\"s\"", "\"verbosity\":\"low\"",
        "\"modalities\":[\"text\"]", "\"length_penalty\":1.0", "\"use_beam_search\":false",
        "\"vllm_xargs\":{\"a\":1}", "\"spaces_between_special_tokens\":false",
        "\"guided_decoding_backend\":\"xgrammar\"")) {
      HttpResponse<String> r = server.post("/v1/chat/completions", "{" + USER + "," + field + "}");
      assertEquals(200, r.statusCode(), field + " -> " + r.body());
      server.engine.arrivals.clear();
    }
  }

  @Test
  void fieldsThatWouldChangeTheOutputAreRefusedNamingThem() throws Exception {
    String[][] cases = {
        {"\"use_beam_search\":true", "use_beam_search"},
        {"\"modalities\":[\"text\",\"audio\"]", "modalities"},
        {"\"guided_grammar\":\"root ::= x\"", "guided_grammar"},
        {"\"truncate_prompt_tokens\":0", "truncate_prompt_tokens"},
        {"\"allowed_token_ids\":[999999]", "allowed_token_ids"},
        {"\"request_id\":\"bad id with spaces\"", "request_id"},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = server.post("/v1/chat/completions", "{" + USER + "," + c[0] + "}");
      assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
      assertEquals(c[1], TestServer.json(r).get("error").get("param").asText(), r.body());
    }
  }

  @Test
  void unknownFieldsAreIgnoredAndLoggedOncePerName() throws Exception {
    HttpResponse<String> r = server.post("/v1/chat/completions", "{" + USER + ",\"tools_v0\":[],\"x_custom\":1}");
    arrived(r);
    assertTrue(barista.server.openai.FieldPolicy.warned("tools_v0"));
    assertTrue(barista.server.openai.FieldPolicy.warned("x_custom"));
    assertEquals(200, server.post("/v1/completions", "{\"prompt\":\"x\",\"x_custom\":1}").statusCode());
  }

  @Test
  void truncatePromptTokensKeepsTheLastTokens() throws Exception {
    GenerationRequest g = arrived(server.post("/v1/completions",
        "{\"prompt\":\"abcdef\",\"max_tokens\":1,\"truncate_prompt_tokens\":2}"));
    assertArrayEquals(new int[] {'e', 'f'}, g.promptTokenIds());
    GenerationRequest all = arrived(server.post("/v1/completions",
        "{\"prompt\":\"abcdef\",\"max_tokens\":1,\"truncate_prompt_tokens\":-1}"));
    assertEquals(6, all.promptTokenIds().length);
    GenerationRequest chat = arrived(server.post("/v1/chat/completions",
        "{" + USER + ",\"truncate_prompt_tokens\":3}"));
    assertEquals("nt:", text(chat.promptTokenIds()), "the end of the rendered chat prompt");
  }

  @Test
  void allowedIdsBadWordsAndCacheSaltReachTheSampler() throws Exception {
    GenerationRequest g = arrived(server.post("/v1/chat/completions", "{" + USER
        + ",\"allowed_token_ids\":[72,105],\"bad_words\":[\"ab\"],\"cache_salt\":\"tenant-1\"}"));
    SamplingParams p = g.params();
    assertEquals(List.of(72, 105), p.allowedTokenIds());
    assertEquals("tenant-1", p.cacheSalt());
    // The fake model's tokens are characters: "ab" and " ab".
    assertEquals(2, p.badWords().size());
    assertArrayEquals(new int[] {'a', 'b'}, p.badWords().get(0));
    assertArrayEquals(new int[] {' ', 'a', 'b'}, p.badWords().get(1));
    GenerationRequest plain = arrived(server.post("/v1/chat/completions", "{" + USER + "}"));
    assertNull(plain.params().allowedTokenIds());
    assertNull(plain.params().cacheSalt());
  }

  @Test
  void returnTokensAsTokenIdsNamesLogprobTokensByTheirIds() throws Exception {
    JsonNode chat = TestServer.json(server.post("/v1/chat/completions", "{" + USER
        + ",\"max_tokens\":2,\"logprobs\":true,\"top_logprobs\":1,\"return_tokens_as_token_ids\":true}"));
    JsonNode first = chat.get("choices").get(0).get("logprobs").get("content").get(0);
    assertEquals("token_id:" + (int) 'H', first.get("token").asText(), first.toString());
    assertTrue(first.get("top_logprobs").get(0).get("token").asText().startsWith("token_id:"));
    JsonNode completion = TestServer.json(server.post("/v1/completions",
        "{\"prompt\":\"x\",\"max_tokens\":2,\"logprobs\":0,\"return_tokens_as_token_ids\":true}"));
    assertEquals("token_id:" + (int) 'H',
        completion.get("choices").get(0).get("logprobs").get("tokens").get(0).asText());
    assertEquals("He", completion.get("choices").get(0).get("text").asText(), "the text itself is unchanged");
  }

  @Test
  void requestIdIsTheResponseIdAndMayRepeat() throws Exception {
    JsonNode first = TestServer.json(server.post("/v1/chat/completions", "{" + USER + ",\"request_id\":\"abc-1\"}"));
    assertEquals("chatcmpl-abc-1", first.get("id").asText());
    JsonNode again = TestServer.json(server.post("/v1/completions",
        "{\"prompt\":\"x\",\"max_tokens\":1,\"request_id\":\"abc-1\"}"));
    assertEquals("cmpl-abc-1", again.get("id").asText());
  }

  @Test
  void everyResponseCarriesAnXRequestIdTheClientsWhenGiven() throws Exception {
    HttpResponse<String> given = server.post("/v1/chat/completions", "{" + USER + "}", "X-Request-Id", "trace-42");
    assertEquals("trace-42", given.headers().firstValue("x-request-id").orElse(null));
    HttpResponse<String> made = server.post("/v1/chat/completions", "{" + USER + ",\"stream\":true}");
    assertTrue(made.headers().firstValue("x-request-id").orElse("").matches("[0-9a-f]{32}"), made.headers().toString());
    HttpResponse<String> error = server.post("/v1/chat/completions", "{}", "X-Request-Id", "x".repeat(200));
    assertEquals(400, error.statusCode());
    assertTrue(error.headers().firstValue("x-request-id").orElse("").matches("[0-9a-f]{32}"), "an id over 128 "
        + "characters is replaced");
  }

  @Test
  void modelsListPermissions() throws Exception {
    HttpResponse<String> r = server.client.send(java.net.http.HttpRequest.newBuilder(server.uri("/v1/models")).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonNode permission = TestServer.json(r).get("data").get(0).get("permission").get(0);
    assertEquals("model_permission", permission.get("object").asText());
    assertTrue(permission.get("allow_sampling").asBoolean() && !permission.get("allow_fine_tuning").asBoolean());
  }

  @Test
  void aForcedToolGovernsTheTurnBesideAResponseFormat() {
    String tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":"
        + "\"object\",\"properties\":{\"x\":{\"type\":\"integer\"}}}}}]";
    String format = "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"o\",\"schema\":"
        + "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}}}";
    ServeOptions options = ServeOptions.parse("--model", "m");
    for (String choice : List.of("\"required\"", "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}")) {
      ChatRequest r = ChatRequest.parse(body("{" + USER + "," + tools + "," + format + ",\"tool_choice\":" + choice
          + "}"), ServerContext.requestPolicy(options, SamplingParams.builder().build()));
      assertTrue(r.constraint().param().startsWith("tools"), choice + ": " + r.constraint().param());
    }
    ChatRequest none = ChatRequest.parse(body("{" + USER + "," + tools + "," + format + ",\"tool_choice\":\"none\"}"),
        ServerContext.requestPolicy(options, SamplingParams.builder().build()));
    assertEquals("response_format.json_schema.schema", none.constraint().param());
  }

  private static ObjectNode body(String json) {
    try {
      return (ObjectNode) Json.MAPPER.readTree(json);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String text(int[] ids) {
    StringBuilder s = new StringBuilder();
    for (int id : ids) s.append((char) id);
    return s.toString();
  }
}
