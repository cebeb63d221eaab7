package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.sampling.SamplingParams;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ChatCompletionTest {
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void nonStreamingResponseHasOpenAiShape() throws Exception {
    HttpResponse<String> response = server.post("/v1/chat/completions",
        "{\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
    assertEquals(200, response.statusCode());
    assertEquals("application/json", response.headers().firstValue("content-type").orElseThrow());
    JsonNode body = TestServer.json(response);
    assertTrue(body.get("id").asText().startsWith("chatcmpl-"));
    assertEquals("chat.completion", body.get("object").asText());
    assertEquals("fake-model", body.get("model").asText());
    assertTrue(body.get("created").asLong() > 1_600_000_000L);
    assertTrue(body.get("system_fingerprint").isTextual());
    JsonNode choice = body.get("choices").get(0);
    assertEquals(0, choice.get("index").asInt());
    assertEquals("assistant", choice.get("message").get("role").asText());
    assertEquals("Hello world", choice.get("message").get("content").asText());
    assertTrue(choice.get("message").get("reasoning_content").isNull());
    assertTrue(choice.get("logprobs").isNull());
    assertEquals("stop", choice.get("finish_reason").asText());
    int promptTokens = "user: Hi\nassistant:".length();
    JsonNode usage = body.get("usage");
    assertEquals(promptTokens, usage.get("prompt_tokens").asInt());
    assertEquals(11, usage.get("completion_tokens").asInt());
    assertEquals(promptTokens + 11, usage.get("total_tokens").asInt());
    assertEquals(2, usage.get("prompt_tokens_details").get("cached_tokens").asInt());
  }

  @Test
  void omittedFieldsTakeTheModelDefaultsAndTheRestOfTheContext() throws Exception {
    JsonNode body = TestServer.json(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}"));
    assertEquals("fake-model", body.get("model").asText(), "no model: the first served name");
    SamplingParams params = server.engine.request(body.get("id").asText() + "-0").params();
    assertEquals(0.6, params.temperature());
    assertEquals(0.95, params.topP());
    assertEquals(TestServer.MAX_MODEL_LEN - "user: Hi\nassistant:".length(), params.maxTokens());
  }

  @Test
  void samplingFieldsReachTheEngine() throws Exception {
    JsonNode body = TestServer.json(server.post("/v1/chat/completions", "{\"model\":\"alias\",\"messages\":"
        + "[{\"role\":\"system\",\"content\":\"Be brief\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\","
        + "\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}],\"temperature\":0,\"top_p\":0.5,\"top_k\":7,"
        + "\"min_p\":0.1,\"repetition_penalty\":1.2,\"presence_penalty\":0.5,\"frequency_penalty\":-0.5,\"seed\":42,"
        + "\"max_completion_tokens\":9,\"max_tokens\":3,\"min_tokens\":2,\"ignore_eos\":true,\"stop\":\"zz\","
        + "\"stop_token_ids\":[5,6],\"include_stop_str_in_output\":true,\"skip_special_tokens\":false,"
        + "\"user\":\"u1\",\"logit_bias\":{\"11\":-100,\"5\":2.5}}"));
    assertEquals("alias", body.path("model").asText(), body.toString());
    GenerationRequestView seen = new GenerationRequestView(server.engine.request(body.get("id").asText() + "-0"));
    SamplingParams p = seen.params;
    assertEquals(0.0, p.temperature());
    assertEquals(0.5, p.topP());
    assertEquals(7, p.topK());
    assertEquals(0.1, p.minP());
    assertEquals(1.2, p.repetitionPenalty());
    assertEquals(0.5, p.presencePenalty());
    assertEquals(-0.5, p.frequencyPenalty());
    assertEquals(42L, p.seed());
    assertEquals(9, p.maxTokens(), "max_completion_tokens wins over max_tokens");
    assertEquals(2, p.minTokens());
    assertTrue(p.ignoreEos());
    assertEquals(List.of("zz"), p.stop());
    assertEquals(List.of(5, 6), p.stopTokenIds());
    assertTrue(p.includeStopStrInOutput());
    assertFalse(p.skipSpecialTokens());
    assertEquals(Map.of(11, -100f, 5, 2.5f), p.logitBias());
    assertEquals("system: Be brief\nuser: a\nb\nassistant:", seen.prompt, "text parts joined with newlines");
  }

  private record GenerationRequestView(SamplingParams params, String prompt) {
    GenerationRequestView(barista.scheduler.GenerationRequest r) {
      this(r.params(), new FakeModel(List.of(), 0).decode(r.promptTokenIds(), false));
    }
  }

  @Test
  void stopStringEndsTheChoiceWithItsStopReason() throws Exception {
    JsonNode choice = TestServer.json(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stop\":[\"w\",\"q\"]}")).get("choices").get(0);
    assertEquals("Hello ", choice.get("message").get("content").asText());
    assertEquals("stop", choice.get("finish_reason").asText());
    assertEquals("w", choice.get("stop_reason").asText());
  }

  @Test
  void maxTokensEndsWithLength() throws Exception {
    JsonNode body = TestServer.json(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4}"));
    assertEquals("Hell", body.get("choices").get(0).get("message").get("content").asText());
    assertEquals("length", body.get("choices").get(0).get("finish_reason").asText());
    assertEquals(4, body.get("usage").get("completion_tokens").asInt());
  }

  @Test
  void nThreeGivesThreeChoicesFromThreeEngineRequests() throws Exception {
    JsonNode body = TestServer.json(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"n\":3,\"max_tokens\":5}"));
    JsonNode choices = body.get("choices");
    assertEquals(3, choices.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(i, choices.get(i).get("index").asInt());
      assertEquals("Hello", choices.get(i).get("message").get("content").asText());
      assertTrue(server.engine.submitted().containsKey(body.get("id").asText() + "-" + i));
    }
    assertEquals("user: Hi\nassistant:".length(), body.get("usage").get("prompt_tokens").asInt(),
        "the prompt counts once");
    assertEquals(15, body.get("usage").get("completion_tokens").asInt());
  }

  @Test
  void logprobsHaveTheChatShape() throws Exception {
    JsonNode logprobs = TestServer.json(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2,\"logprobs\":true,"
            + "\"top_logprobs\":2}")).get("choices").get(0).get("logprobs").get("content");
    assertEquals(2, logprobs.size());
    JsonNode first = logprobs.get(0);
    assertEquals("H", first.get("token").asText());
    assertEquals(-0.5, first.get("logprob").asDouble());
    assertEquals(List.of((int) 'H'), ints(first.get("bytes")));
    assertEquals(2, first.get("top_logprobs").size());
    assertEquals("a", first.get("top_logprobs").get(0).get("token").asText());
    assertEquals(-1.0, first.get("top_logprobs").get(0).get("logprob").asDouble());
    assertEquals(List.of((int) 'b'), ints(first.get("top_logprobs").get(1).get("bytes")));
  }

  private static List<Integer> ints(JsonNode array) {
    return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(JsonNode::asInt).toList();
  }

  @Test
  void streamingSendsRoleFirstThenDeltasThenDone() throws Exception {
    HttpResponse<String> response = server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true,\"max_tokens\":5}");
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("content-type").orElseThrow().startsWith("text/event-stream"));
    List<JsonNode> events = TestServer.events(response);
    JsonNode first = events.get(0);
    assertEquals("chat.completion.chunk", first.get("object").asText());
    assertEquals("assistant", first.get("choices").get(0).get("delta").get("role").asText());
    String id = first.get("id").asText();
    assertTrue(events.stream().allMatch(e -> e.get("id").asText().equals(id)), "one id for the stream");
    String text = events.stream().skip(1).map(e -> e.get("choices").get(0).get("delta").path("content").asText(""))
        .collect(Collectors.joining());
    assertEquals("Hello", text);
    assertEquals(6, events.size(), "role chunk and one chunk per token");
    JsonNode last = events.get(events.size() - 1).get("choices").get(0);
    assertEquals("length", last.get("finish_reason").asText());
    assertTrue(events.stream().noneMatch(e -> e.has("usage")), "no usage unless asked");
  }

  @Test
  void includeUsageAddsAFinalUsageChunk() throws Exception {
    List<JsonNode> events = TestServer.events(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true,\"max_tokens\":3,\"n\":2,"
            + "\"stream_options\":{\"include_usage\":true}}"));
    JsonNode usageChunk = events.get(events.size() - 1);
    assertEquals(0, usageChunk.get("choices").size());
    assertEquals(6, usageChunk.get("usage").get("completion_tokens").asInt());
    assertEquals("user: Hi\nassistant:".length() + 6, usageChunk.get("usage").get("total_tokens").asInt());
    assertTrue(events.subList(0, events.size() - 1).stream().noneMatch(e -> e.has("usage")));
    long roleChunks = events.stream().filter(e -> e.get("choices").size() == 1
        && e.get("choices").get(0).get("delta").has("role")).count();
    assertEquals(2, roleChunks, "each choice opens with its role");
  }

  @Test
  void continuousUsageStatsPutsRunningUsageInEveryChunk() throws Exception {
    List<JsonNode> events = TestServer.events(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true,\"max_tokens\":3,"
            + "\"stream_options\":{\"continuous_usage_stats\":true}}"));
    List<Integer> completion = events.stream().map(e -> e.get("usage").get("completion_tokens").asInt()).toList();
    assertEquals(List.of(0, 1, 2, 3), completion);
  }

  @Test
  void streamedLogprobsComeWithTheirDelta() throws Exception {
    List<JsonNode> events = TestServer.events(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true,\"max_tokens\":2,"
            + "\"logprobs\":true}"));
    JsonNode second = events.get(1).get("choices").get(0);
    assertEquals("H", second.get("delta").get("content").asText());
    assertEquals("H", second.get("logprobs").get("content").get(0).get("token").asText());
    assertEquals(0, second.get("logprobs").get("content").get(0).get("top_logprobs").size());
  }

  @Test
  void aBugAfterTheStreamStartedIsAnErrorEventThenDone() throws Exception {
    server.engine.reply = "ab" + FakeModel.BROKEN_TOKEN + "cd";
    try {
      HttpResponse<String> response = server.post("/v1/chat/completions",
          "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true,\"logprobs\":true}");
      assertEquals(200, response.statusCode());
      List<JsonNode> events = TestServer.events(response);
      JsonNode error = events.get(events.size() - 1).get("error");
      assertEquals("InternalServerError", error.get("type").asText());
      assertEquals(500, error.get("code").asInt());
      assertEquals("b", events.get(events.size() - 2).get("choices").get(0).get("delta").get("content").asText());
    } finally {
      server.engine.reply = "Hello world";
    }
    assertEquals(200, server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").statusCode());
  }
}
