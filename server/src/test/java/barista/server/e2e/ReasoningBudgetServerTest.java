package barista.server.e2e;

import static barista.server.e2e.RealServer.body;
import static barista.server.e2e.RealServer.userSays;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * max_reasoning_tokens and reasoning_effort on the real engine under --reasoning-parser deepseek_r1. Greedy output
 * is compared token by token (chat logprobs name each token) with the same request unbounded: the model's own
 * thinking up to the budget, then "\n", "</think>", "\n\n" forced, then the answer.
 */
class ReasoningBudgetServerTest {
  private static final List<Map<String, String>> MESSAGES = userSays("Why is the sky blue?");
  private static RealServer server;

  @BeforeAll
  static void start() throws Exception {
    // No prefix cache: the requests compared token by token compute the same shapes (see StructuredOutputTest).
    server = RealServer.start("--reasoning-parser", "deepseek_r1", "--reasoning-budgets", "4,8,unlimited", "--minimal-reasoning-budget", "3",
        "--no-enable-prefix-caching");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static Object[] request(Object... extra) {
    List<Object> fields = new ArrayList<>(List.of("messages", MESSAGES, "temperature", 0, "max_tokens", 40,
        "ignore_eos", true, "logprobs", true));
    fields.addAll(List.of(extra));
    return fields.toArray();
  }

  private static List<String> tokens(JsonNode choice) {
    List<String> tokens = new ArrayList<>();
    for (JsonNode t : choice.get("logprobs").get("content")) tokens.add(t.get("token").asText());
    return tokens;
  }

  @Test
  void sixteenReasoningTokensThenTheClosingTagAndTheAnswer() throws Exception {
    JsonNode free = server.postOk("/v1/chat/completions", body(request()));
    List<String> unbounded = tokens(free.get("choices").get(0));
    assertTrue(unbounded.indexOf("</think>") < 0 || unbounded.indexOf("</think>") > 16,
        "the greedy model must think past 16 tokens for this test: " + unbounded);

    int unboundedThinking = unbounded.indexOf("</think>") < 0 ? unbounded.size() : unbounded.indexOf("</think>");
    assertEquals(unboundedThinking, free.get("usage").get("completion_tokens_details").get("reasoning_tokens").asInt(),
        "without a budget, usage still counts the tokens before </think>");

    JsonNode bounded = server.postOk("/v1/chat/completions", body(request("max_reasoning_tokens", 16)));
    List<String> got = tokens(bounded.get("choices").get(0));
    assertEquals(unbounded.subList(0, 15), got.subList(0, 15), "the model's own thinking comes first");
    assertEquals(List.of("\n", "</think>", "\n\n"), got.subList(15, 18), "then the forced close");
    assertEquals(40, got.size(), "and answer tokens up to max_tokens");
    assertEquals(16, bounded.get("usage").get("completion_tokens_details").get("reasoning_tokens").asInt());
    JsonNode message = bounded.get("choices").get(0).get("message");
    // Token strings are raw bytes (and special tokens are skipped in text), so the text is checked at the seams.
    String reasoningText = message.get("reasoning_content").asText();
    String contentText = message.get("content").asText();
    assertTrue(reasoningText.endsWith("\n"), "the forced newline ends the reasoning: " + reasoningText);
    assertTrue(contentText.startsWith("\n\n") && contentText.length() > 2, "the answer follows: " + contentText);
    assertFalse(reasoningText.contains("</think>") || contentText.contains("</think>"));

    List<JsonNode> events = server.postStream("/v1/chat/completions", body(request("max_reasoning_tokens", 16,
        "stream", true, "stream_options", Map.of("include_usage", true))));
    StringBuilder reasoning = new StringBuilder();
    StringBuilder content = new StringBuilder();
    for (JsonNode event : events) {
      for (JsonNode choice : event.get("choices")) {
        JsonNode delta = choice.get("delta");
        if (delta.hasNonNull("reasoning_content")) reasoning.append(delta.get("reasoning_content").asText());
        if (delta.hasNonNull("content")) content.append(delta.get("content").asText());
      }
    }
    assertEquals(message.get("reasoning_content").asText(), reasoning.toString());
    assertEquals(message.get("content").asText(), content.toString());
    JsonNode usage = events.get(events.size() - 1).get("usage");
    assertEquals(16, usage.get("completion_tokens_details").get("reasoning_tokens").asInt());
  }

  @Test
  void reasoningEffortTakesItsBudgetFromTheFlagAndMaxReasoningTokensOverridesIt() throws Exception {
    JsonNode low = server.postOk("/v1/chat/completions", body(request("reasoning_effort", "low")));
    assertEquals(4, low.get("usage").get("completion_tokens_details").get("reasoning_tokens").asInt());
    assertEquals("</think>", tokens(low.get("choices").get(0)).get(4));
    JsonNode both = server.postOk("/v1/chat/completions", body(request("reasoning_effort", "low",
        "max_reasoning_tokens", 6)));
    assertEquals(6, both.get("usage").get("completion_tokens_details").get("reasoning_tokens").asInt());
    JsonNode high = server.postOk("/v1/chat/completions", body(request("reasoning_effort", "high")));
    assertEquals(tokens(server.postOk("/v1/chat/completions", body(request())).get("choices").get(0)),
        tokens(high.get("choices").get(0)), "high is unlimited here: nothing changes");
  }

  @Test
  void reasoningEffortNoneClosesTheThinkingAtOnceAndMinimalTakesItsFlag() throws Exception {
    JsonNode none = server.postOk("/v1/chat/completions", body(request("reasoning_effort", "none")));
    assertEquals(0, none.get("usage").get("completion_tokens_details").get("reasoning_tokens").asInt());
    assertEquals("</think>", tokens(none.get("choices").get(0)).get(0), "</think> comes first");
    JsonNode minimal = server.postOk("/v1/chat/completions", body(request("reasoning_effort", "minimal")));
    assertEquals(3, minimal.get("usage").get("completion_tokens_details").get("reasoning_tokens").asInt());
  }

  @Test
  void badValuesAre400() throws Exception {
    assertEquals(400, server.post("/v1/chat/completions", body(request("reasoning_effort", "extreme"))).statusCode());
    assertEquals(400, server.post("/v1/chat/completions", body(request("max_reasoning_tokens", -1))).statusCode());
    assertEquals(400, server.post("/v1/completions", body("prompt", "hi", "max_reasoning_tokens", 4)).statusCode(),
        "completions have no reasoning split, so no budget either");
  }

  /** A constrained answer has no reasoning part and a spent budget would force </think> past the grammar: 400. */
  @Test
  void aBudgetWithAConstraintIs400NamingTheBudgetField() throws Exception {
    java.net.http.HttpResponse<String> format = server.post("/v1/chat/completions", body("messages", MESSAGES,
        "max_tokens", 8, "max_reasoning_tokens", 4, "response_format", Map.of("type", "json_object")));
    assertEquals(400, format.statusCode(), format.body());
    assertEquals("max_reasoning_tokens", RealServer.JSON.readTree(format.body()).get("error").get("param").asText());
    Map<String, Object> tool = Map.of("type", "function", "function", Map.of("name", "f"));
    java.net.http.HttpResponse<String> required = server.post("/v1/chat/completions", body("messages", MESSAGES,
        "max_tokens", 8, "reasoning_effort", "low", "tools", List.of(tool), "tool_choice", "required"));
    assertEquals(400, required.statusCode(), required.body());
    assertEquals("reasoning_effort", RealServer.JSON.readTree(required.body()).get("error").get("param").asText());
    assertEquals(200, server.post("/v1/chat/completions", body("messages", MESSAGES, "max_tokens", 8,
        "reasoning_effort", "low", "tools", List.of(tool), "tool_choice", "none")).statusCode(),
        "a budget with tools that do not constrain is fine");
  }
}
