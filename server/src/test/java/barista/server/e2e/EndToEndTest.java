package barista.server.e2e;

import static barista.server.e2e.RealServer.JSON;
import static barista.server.e2e.RealServer.body;
import static barista.server.e2e.RealServer.userSays;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every endpoint of the real server over the real engine (tiny random model, CPU), streaming and not. The model's
 * text is gibberish, so expectations come from the server itself: a greedy answer, the same request streamed, the
 * same prompt through the other API, or the same seed.
 */
class EndToEndTest {
  private static final String MODEL = "barista-tiny";
  private static RealServer server;

  @BeforeAll
  static void start() throws Exception {
    server = RealServer.start("--served-model-name", MODEL);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static JsonNode chat(String user, Object... fields) throws Exception {
    return server.postOk("/v1/chat/completions", request(fields, "model", MODEL, "messages", userSays(user)));
  }

  private static List<JsonNode> chatStream(String user, Object... fields) throws Exception {
    return server.postStream("/v1/chat/completions",
        request(fields, "model", MODEL, "messages", userSays(user), "stream", true));
  }

  private static JsonNode complete(Object prompt, Object... fields) throws Exception {
    return server.postOk("/v1/completions", request(fields, "model", MODEL, "prompt", prompt));
  }

  private static List<JsonNode> completeStream(Object prompt, Object... fields) throws Exception {
    return server.postStream("/v1/completions", request(fields, "model", MODEL, "prompt", prompt, "stream", true));
  }

  private static String request(Object[] fields, Object... base) {
    return body(Stream.concat(Arrays.stream(base), Arrays.stream(fields)).toArray());
  }

  /** The concatenated delta content (chat) or text (completions) of choice {@code index} in a stream. */
  private static String streamedText(List<JsonNode> events, int index) {
    StringBuilder text = new StringBuilder();
    for (JsonNode event : events) {
      for (JsonNode choice : event.path("choices")) {
        if (choice.get("index").asInt() != index) continue;
        JsonNode part = choice.has("delta") ? choice.get("delta").get("content") : choice.get("text");
        if (part != null && !part.isNull()) text.append(part.asText());
      }
    }
    return text.toString();
  }

  private static String finishReason(List<JsonNode> events, int index) {
    String reason = null;
    for (JsonNode event : events) {
      for (JsonNode choice : event.path("choices")) {
        if (choice.get("index").asInt() == index && !choice.get("finish_reason").isNull()) {
          reason = choice.get("finish_reason").asText();
        }
      }
    }
    return reason;
  }

  /** Prompt, completion and total tokens; cached_tokens is left out (a repeated prompt hits the prefix cache). */
  private static List<Integer> counts(JsonNode usage) {
    return List.of(usage.get("prompt_tokens").asInt(), usage.get("completion_tokens").asInt(),
        usage.get("total_tokens").asInt());
  }

  @Test
  void modelsHealthPingVersion() throws Exception {
    JsonNode models = JSON.readTree(server.get("/v1/models").body());
    assertEquals("list", models.get("object").asText());
    assertEquals(MODEL, models.get("data").get(0).get("id").asText());
    assertEquals(512, models.get("data").get(0).get("max_model_len").asInt());
    assertEquals(200, server.get("/health").statusCode());
    assertEquals(200, server.get("/ping").statusCode());
    assertTrue(JSON.readTree(server.get("/version").body()).get("version").asText().matches("\\d+\\.\\d+\\.\\d+.*"));
  }

  @Test
  void tokenizeThenDetokenizeGivesThePromptBack() throws Exception {
    JsonNode tokenized = server.postOk("/tokenize", body("model", MODEL, "prompt", "Hello, world! 2+2=4"));
    JsonNode tokens = tokenized.get("tokens");
    assertEquals(tokens.size(), tokenized.get("count").asInt());
    assertEquals(512, tokenized.get("max_model_len").asInt());
    JsonNode detokenized = server.postOk("/detokenize", body("model", MODEL, "tokens", tokens));
    assertEquals("Hello, world! 2+2=4", detokenized.get("prompt").asText());
  }

  @Test
  void chatAnswersWhatCompletionsAnswerForTheRenderedPrompt() throws Exception {
    JsonNode promptIds = server.postOk("/tokenize", body("model", MODEL, "messages", userSays("What is 2+2?")))
        .get("tokens");
    JsonNode chat = chat("What is 2+2?", "temperature", 0, "max_tokens", 24, "ignore_eos", true);
    JsonNode completion = complete(promptIds, "temperature", 0, "max_tokens", 24, "ignore_eos", true);

    assertTrue(chat.get("id").asText().startsWith("chatcmpl-"));
    assertEquals("chat.completion", chat.get("object").asText());
    assertEquals(MODEL, chat.get("model").asText());
    assertTrue(chat.get("created").asLong() > 1_600_000_000L);
    JsonNode choice = chat.get("choices").get(0);
    assertEquals("assistant", choice.get("message").get("role").asText());
    assertEquals("length", choice.get("finish_reason").asText());
    assertEquals(completion.get("choices").get(0).get("text").asText(), choice.get("message").get("content").asText());
    JsonNode usage = chat.get("usage");
    assertEquals(promptIds.size(), usage.get("prompt_tokens").asInt());
    assertEquals(24, usage.get("completion_tokens").asInt());
    assertEquals(promptIds.size() + 24, usage.get("total_tokens").asInt());
    assertTrue(completion.get("id").asText().startsWith("cmpl-"));
    assertEquals("text_completion", completion.get("object").asText());
    assertEquals(usage.get("prompt_tokens"), completion.get("usage").get("prompt_tokens"));
  }

  @Test
  void chatStreamCarriesTheSameTextRoleFirstAndUsageLastWhenAsked() throws Exception {
    JsonNode whole = chat("Tell me a story", "temperature", 0, "max_tokens", 32);
    List<JsonNode> events = chatStream("Tell me a story", "temperature", 0, "max_tokens", 32,
        "stream_options", Map.of("include_usage", true));

    assertTrue(events.size() > 3, "one event per token, got " + events.size());
    assertEquals("assistant", events.get(0).get("choices").get(0).get("delta").get("role").asText());
    for (JsonNode event : events) {
      assertEquals("chat.completion.chunk", event.get("object").asText());
      assertEquals(events.get(0).get("id"), event.get("id"));
    }
    JsonNode message = whole.get("choices").get(0).get("message");
    assertEquals(message.path("content").asText(""), streamedText(events, 0));
    assertEquals(whole.get("choices").get(0).get("finish_reason").asText(), finishReason(events, 0));
    JsonNode last = events.get(events.size() - 1);
    assertEquals(0, last.get("choices").size(), "the usage chunk has no choices");
    assertEquals(counts(whole.get("usage")), counts(last.get("usage")));
    assertTrue(events.subList(0, events.size() - 1).stream().allMatch(e -> e.path("usage").isNull()
        || e.path("usage").isMissingNode()), "usage only in the last chunk");

    List<JsonNode> withoutUsage = chatStream("Tell me a story", "temperature", 0, "max_tokens", 32);
    assertTrue(withoutUsage.stream().allMatch(e -> e.path("choices").size() == 1), "no usage chunk unless asked");
  }

  @Test
  void continuousUsageStatsCountTokensInEveryChunk() throws Exception {
    List<JsonNode> events = chatStream("Count", "temperature", 0, "max_tokens", 8, "ignore_eos", true,
        "stream_options", Map.of("include_usage", true, "continuous_usage_stats", true));
    int previous = -1;
    for (JsonNode event : events) {
      int completion = event.get("usage").get("completion_tokens").asInt();
      assertTrue(completion >= previous, "completion_tokens never goes down: " + events);
      previous = completion;
    }
    assertEquals(8, previous);
  }

  @Test
  void completionsStreamAndEchoAgreeWithTheWholeResponse() throws Exception {
    JsonNode whole = complete("The capital of France is", "temperature", 0, "max_tokens", 20);
    String text = whole.get("choices").get(0).get("text").asText();
    List<JsonNode> events = completeStream("The capital of France is", "temperature", 0, "max_tokens", 20);
    assertEquals(text, streamedText(events, 0));
    assertTrue(events.size() > 3, "one event per token, got " + events.size());
    assertTrue(events.stream().allMatch(e -> e.get("object").asText().equals("text_completion")));

    JsonNode echoed = complete("The capital of France is", "temperature", 0, "max_tokens", 20, "echo", true);
    assertEquals("The capital of France is" + text, echoed.get("choices").get(0).get("text").asText());
  }

  @Test
  void completionsTakeAListOfPromptsAndTokenIds() throws Exception {
    JsonNode ids = server.postOk("/tokenize", body("model", MODEL, "prompt", "one")).get("tokens");
    JsonNode single = complete("one", "temperature", 0, "max_tokens", 10);
    JsonNode batch = complete(List.of("one", "two"), "temperature", 0, "max_tokens", 10);
    JsonNode fromIds = complete(ids, "temperature", 0, "max_tokens", 10);
    String expected = single.get("choices").get(0).get("text").asText();
    assertEquals(2, batch.get("choices").size());
    assertEquals(expected, batch.get("choices").get(0).get("text").asText());
    assertNotEquals(expected, batch.get("choices").get(1).get("text").asText());
    assertEquals(expected, fromIds.get("choices").get(0).get("text").asText());
  }

  @Test
  void nChoicesOfASeededRequestAreTheRequestsWithSeedPlusIndex() throws Exception {
    JsonNode three = chat("Pick a number", "temperature", 1.0, "seed", 7, "n", 3, "max_tokens", 16);
    assertEquals(3, three.get("choices").size());
    List<String> texts = new ArrayList<>();
    for (int j = 0; j < 3; j++) {
      JsonNode choice = three.get("choices").get(j);
      assertEquals(j, choice.get("index").asInt());
      String alone = chat("Pick a number", "temperature", 1.0, "seed", 7 + j, "max_tokens", 16)
          .get("choices").get(0).get("message").path("content").asText("");
      assertEquals(alone, choice.get("message").path("content").asText(""), "choice " + j);
      texts.add(alone);
    }
    assertEquals(3, texts.stream().distinct().count(), "three different samples: " + texts);

    List<JsonNode> streamed = chatStream("Pick a number", "temperature", 1.0, "seed", 7, "n", 3, "max_tokens", 16,
        "stream_options", Map.of("include_usage", true));
    for (int j = 0; j < 3; j++) assertEquals(texts.get(j), streamedText(streamed, j), "streamed choice " + j);
    assertEquals(counts(three.get("usage")), counts(streamed.get(streamed.size() - 1).get("usage")));
  }

  @Test
  void greedyIsDeterministicAndSeedsReproduceSampling() throws Exception {
    String greedy = complete("Once upon a time", "temperature", 0, "max_tokens", 24).get("choices").get(0)
        .get("text").asText();
    assertEquals(greedy, complete("Once upon a time", "temperature", 0, "max_tokens", 24).get("choices").get(0)
        .get("text").asText());
    String seeded = complete("Once upon a time", "temperature", 1.0, "seed", 1234, "max_tokens", 24)
        .get("choices").get(0).get("text").asText();
    assertEquals(seeded, complete("Once upon a time", "temperature", 1.0, "seed", 1234, "max_tokens", 24)
        .get("choices").get(0).get("text").asText());
    assertNotEquals(seeded, complete("Once upon a time", "temperature", 1.0, "seed", 4321, "max_tokens", 24)
        .get("choices").get(0).get("text").asText());
    assertNotEquals(greedy, seeded);
  }

  @Test
  void stopStringEndsTheTextWhereItFirstAppears() throws Exception {
    String full = complete("Write some code", "temperature", 0, "max_tokens", 48, "ignore_eos", true)
        .get("choices").get(0).get("text").asText();
    // A run of ASCII letters past the start of the greedy text; the text before it is what a stop there leaves.
    Matcher word = Pattern.compile("[A-Za-z]{2,}").matcher(full);
    assertTrue(word.find(3), "no ASCII word in the greedy text to stop at: " + full);
    String stop = word.group();
    String before = full.substring(0, full.indexOf(stop));

    JsonNode stopped = complete("Write some code", "temperature", 0, "max_tokens", 48, "ignore_eos", true,
        "stop", List.of(stop, "never-generated-stop"));
    JsonNode choice = stopped.get("choices").get(0);
    assertEquals(before, choice.get("text").asText());
    assertEquals("stop", choice.get("finish_reason").asText());
    assertEquals(stop, choice.get("stop_reason").asText());

    JsonNode kept = complete("Write some code", "temperature", 0, "max_tokens", 48, "ignore_eos", true,
        "stop", stop, "include_stop_str_in_output", true);
    assertEquals(before + stop, kept.get("choices").get(0).get("text").asText());

    List<JsonNode> streamed = completeStream("Write some code", "temperature", 0, "max_tokens", 48,
        "ignore_eos", true, "stop", List.of(stop));
    assertEquals(before, streamedText(streamed, 0));
    assertEquals("stop", finishReason(streamed, 0));
  }

  @Test
  void chatLogprobsListEveryTokenWithItsTopAlternatives() throws Exception {
    JsonNode response = chat("Hi", "temperature", 0, "max_tokens", 12, "ignore_eos", true, "logprobs", true,
        "top_logprobs", 3);
    JsonNode choice = response.get("choices").get(0);
    JsonNode content = choice.get("logprobs").get("content");
    assertEquals(12, content.size());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (JsonNode token : content) {
      JsonNode top = token.get("top_logprobs");
      assertEquals(3, top.size());
      assertTrue(token.get("logprob").asDouble() <= 0);
      assertTrue(top.get(0).get("logprob").asDouble() >= top.get(1).get("logprob").asDouble());
      assertTrue(top.get(1).get("logprob").asDouble() >= top.get(2).get("logprob").asDouble());
      // Greedy: the chosen token is the most likely one.
      assertEquals(top.get(0).get("token").asText(), token.get("token").asText());
      assertEquals(top.get(0).get("logprob").asDouble(), token.get("logprob").asDouble(), 1e-6);
      for (JsonNode b : token.get("bytes")) bytes.write(b.asInt());
    }
    assertEquals(choice.get("message").get("content").asText(), bytes.toString(StandardCharsets.UTF_8));

    List<JsonNode> streamed = chatStream("Hi", "temperature", 0, "max_tokens", 12, "ignore_eos", true,
        "logprobs", true, "top_logprobs", 3);
    List<JsonNode> streamedTokens = new ArrayList<>();
    for (JsonNode event : streamed) {
      event.get("choices").get(0).path("logprobs").path("content").forEach(streamedTokens::add);
    }
    assertEquals(toList(content), streamedTokens);
  }

  private static List<JsonNode> toList(JsonNode array) {
    List<JsonNode> list = new ArrayList<>();
    array.forEach(list::add);
    return list;
  }

  @Test
  void completionLogprobsHaveTokensOffsetsAndTopEntries() throws Exception {
    JsonNode choice = complete("Hello", "temperature", 0, "max_tokens", 10, "ignore_eos", true, "logprobs", 2)
        .get("choices").get(0);
    JsonNode logprobs = choice.get("logprobs");
    JsonNode tokens = logprobs.get("tokens");
    assertEquals(10, tokens.size());
    assertEquals(10, logprobs.get("token_logprobs").size());
    assertEquals(10, logprobs.get("top_logprobs").size());
    int offset = 0;
    for (int i = 0; i < 10; i++) {
      assertEquals(offset, logprobs.get("text_offset").get(i).asInt());
      offset += tokens.get(i).asText().length();
      JsonNode top = logprobs.get("top_logprobs").get(i);
      // Keyed by text as in vLLM, so tokens that render alike (partial UTF-8) share an entry.
      assertTrue(top.size() >= 1 && top.size() <= 3, "top entries: " + top);
      assertTrue(top.has(tokens.get(i).asText()), "the chosen token is among the top: " + top);
      double chosen = logprobs.get("token_logprobs").get(i).asDouble();
      for (JsonNode lp : top) assertTrue(lp.asDouble() <= chosen + 1e-6, "greedy picks the best: " + top);
    }
  }

  @Test
  void tooLongRequestIsABadRequestNamingBothNumbers() throws Exception {
    HttpResponse<String> response = server.post("/v1/completions", body("model", MODEL, "prompt", "Hi",
        "max_tokens", 600));
    assertEquals(400, response.statusCode());
    JsonNode error = JSON.readTree(response.body()).get("error");
    assertEquals("BadRequestError", error.get("type").asText());
    assertTrue(error.get("message").asText().contains("512"), error.toString());
    assertTrue(error.get("message").asText().contains("600"), error.toString());
    assertEquals(200, server.get("/health").statusCode(), "still serving");
  }

  @Test
  void metricsCountTheTrafficUnderVllmNames() throws Exception {
    JsonNode done = complete("metrics", "temperature", 0, "max_tokens", 5, "ignore_eos", true);
    int prompt = done.get("usage").get("prompt_tokens").asInt();
    String metrics = server.get("/metrics").body();
    assertTrue(metric(metrics, "vllm:prompt_tokens_total") >= prompt, metrics);
    assertTrue(metric(metrics, "vllm:generation_tokens_total") >= 5, metrics);
    assertTrue(metric(metrics, "vllm:request_success_total{finished_reason=\"length\"") >= 1, metrics);
    assertTrue(metric(metrics, "vllm:time_to_first_token_seconds_count") >= 1, metrics);
    assertTrue(metric(metrics, "vllm:e2e_request_latency_seconds_count") >= 1, metrics);
    // The engine's phases: each request's inference (prefill + decode) lies within its end-to-end latency.
    for (String phase : List.of("queue", "prefill", "decode", "inference")) {
      assertTrue(metric(metrics, "vllm:request_" + phase + "_time_seconds_count") >= 1, phase);
    }
    assertTrue(metric(metrics, "vllm:request_prefill_time_seconds_sum") > 0, metrics);
    assertTrue(metric(metrics, "vllm:request_inference_time_seconds_sum")
        <= metric(metrics, "vllm:e2e_request_latency_seconds_sum"), metrics);
    assertTrue(metric(metrics, "vllm:request_generation_tokens_sum") >= 5, metrics);
    assertTrue(metric(metrics, "vllm:cache_config_info{") == 1.0, metrics);
    for (String name : List.of("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
        "vllm:num_preemptions_total",
        "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:inter_token_latency_seconds",
        "jvm_memory_used_bytes")) {
      assertTrue(metrics.contains(name), name + " missing from /metrics");
    }
    assertFalse(metrics.contains("NaN"), "no NaN in /metrics");
  }

  /** The value of the first sample whose name (and labels so far) start with {@code prefix}. */
  static double metric(String metrics, String prefix) {
    return metrics.lines().filter(l -> l.startsWith(prefix)).findFirst()
        .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .orElseThrow(() -> new AssertionError(prefix + " missing from /metrics:\n" + metrics));
  }
}
