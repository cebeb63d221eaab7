package barista.server.e2e;

import static barista.server.e2e.RealServer.body;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Prompt logprobs on the real engine (CPU, float32): completions echo + logprobs and vLLM's prompt_logprobs equal
 * teacher forcing, the logprobs the same tokens had when the model generated them, also after the prompt's prefix
 * was cached by an earlier request. Prompts span several chunked-prefill steps.
 */
class PromptLogprobsServerTest {
  private static final double TOLERANCE = 1e-4;
  private static RealServer server;

  @BeforeAll
  static void start() throws Exception {
    server = RealServer.start("--served-model-name", "barista-tiny", "--block-size", "16",
        "--max-num-batched-tokens", "24");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** A prompt, and the tokens the model generates after it greedily with the logprob each was generated with. */
  private record Forced(List<Integer> prompt, List<Integer> generated, List<Double> logprobs) {
    List<Integer> all() {
      List<Integer> all = new ArrayList<>(prompt);
      all.addAll(generated);
      return all;
    }
  }

  private static Forced generate(String text, int tokens) throws Exception {
    List<Integer> prompt = new ArrayList<>();
    for (JsonNode id : server.postOk("/tokenize", body("prompt", text)).get("tokens")) prompt.add(id.asInt());
    JsonNode lp = server.postOk("/v1/completions", body("prompt", prompt, "max_tokens", tokens, "temperature", 0,
        "ignore_eos", true, "logprobs", 0, "return_tokens_as_token_ids", true))
        .get("choices").get(0).get("logprobs");
    List<Integer> generated = new ArrayList<>();
    List<Double> logprobs = new ArrayList<>();
    for (int i = 0; i < tokens; i++) {
      generated.add(Integer.parseInt(lp.get("tokens").get(i).asText().substring("token_id:".length())));
      logprobs.add(lp.get("token_logprobs").get(i).asDouble());
    }
    return new Forced(prompt, generated, logprobs);
  }

  private static int cached(JsonNode response) {
    return response.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
  }

  /** Echo's token_logprobs of the generated part equal the generation's; the first prompt token's is null. */
  private static void assertTeacherForced(Forced f, JsonNode logprobs) {
    int n = f.prompt().size() + f.generated().size();
    assertTrue(logprobs.get("token_logprobs").get(0).isNull(), "the first token has no logprob");
    assertTrue(logprobs.get("top_logprobs").get(0).isNull());
    assertTrue(logprobs.get("token_logprobs").size() >= n, "prompt tokens lead the logprobs");
    for (int j = 0; j < f.generated().size(); j++) {
      double echoed = logprobs.get("token_logprobs").get(f.prompt().size() + j).asDouble();
      assertEquals(f.logprobs().get(j), echoed, TOLERANCE, "token " + j + " after the prompt");
    }
    for (int i = 1; i < n; i++) {
      double lp = logprobs.get("token_logprobs").get(i).asDouble();
      assertTrue(lp <= 0 && lp > -100, "prompt token " + i + ": " + lp);
    }
  }

  @Test
  void echoWithLogprobsEqualsTeacherForcingAlsoAfterACachedPrefix() throws Exception {
    Forced f = generate("Teacher forcing checks every prompt row of a prefill that runs over several steps.", 12);
    List<Integer> all = f.all();
    String echo = body("prompt", all, "echo", true, "logprobs", 2, "max_tokens", 1, "temperature", 0);
    JsonNode first = server.postOk("/v1/completions", echo);
    JsonNode choice = first.get("choices").get(0);
    assertTeacherForced(f, choice.get("logprobs"));
    assertEquals(all.size() + 1, choice.get("logprobs").get("tokens").size(), "prompt tokens, then the output");
    assertEquals(0, choice.get("logprobs").get("text_offset").get(0).asInt());
    int top = choice.get("logprobs").get("top_logprobs").get(1).size();
    assertTrue(top >= 2 && top <= 3, "the prompt token and the top 2 (one of them, perhaps): " + top);

    // The prefix is cached now (by the echo request itself and by a plain one): a second echo takes no hit, so its
    // every row is computed again, and the numbers are the same.
    server.postOk("/v1/completions", body("prompt", all.subList(0, all.size() - 3), "max_tokens", 1));
    JsonNode plain = server.postOk("/v1/completions", body("prompt", all, "max_tokens", 1));
    assertTrue(cached(plain) > 0, "the prompt's blocks are in the prefix cache");
    JsonNode again = server.postOk("/v1/completions", echo);
    assertEquals(0, cached(again), "a request for prompt logprobs takes no prefix-cache hits");
    assertTeacherForced(f, again.get("choices").get(0).get("logprobs"));
    assertEquals(choice.get("logprobs").get("token_logprobs"), again.get("choices").get(0).get("logprobs")
        .get("token_logprobs"));
  }

  @Test
  void promptLogprobsOnCompletionsEqualTeacherForcing() throws Exception {
    Forced f = generate("vLLM's prompt_logprobs name each prompt token's rank and its likeliest rivals.", 10);
    List<Integer> all = f.all();
    JsonNode choice = server.postOk("/v1/completions", body("prompt", all, "prompt_logprobs", 3, "max_tokens", 1,
        "temperature", 0)).get("choices").get(0);
    JsonNode plp = choice.get("prompt_logprobs");
    assertEquals(all.size(), plp.size(), "one entry per prompt token");
    assertTrue(plp.get(0).isNull());
    for (int j = 0; j < f.generated().size(); j++) {
      int position = f.prompt().size() + j;
      JsonNode entry = plp.get(position);
      JsonNode token = entry.get(Integer.toString(all.get(position)));
      assertEquals(f.logprobs().get(j), token.get("logprob").asDouble(), TOLERANCE, "token " + position);
      assertEquals(1, token.get("rank").asInt(), "a greedy token is the likeliest");
    }
    for (int i = 1; i < all.size(); i++) {
      JsonNode entry = plp.get(i);
      assertTrue(entry.size() >= 3 && entry.size() <= 4, "the prompt token and the top 3: " + entry);
      List<Integer> ranks = new ArrayList<>();
      entry.forEach(e -> ranks.add(e.get("rank").asInt()));
      assertTrue(ranks.containsAll(List.of(1, 2, 3)), "ranks " + ranks);
      assertTrue(entry.get(Integer.toString(all.get(i))).has("decoded_token"));
    }
    assertTrue(choice.get("logprobs").isNull(), "no echo, no logprobs asked: the output's logprobs stay null");
  }

  @Test
  void promptLogprobsOnChatMatchCompletionsOverTheSameTokens() throws Exception {
    List<?> messages = RealServer.userSays("Score the prompt of this chat, token by token.");
    JsonNode chat = server.postOk("/v1/chat/completions", body("messages", messages, "prompt_logprobs", 1,
        "max_tokens", 1, "temperature", 0));
    JsonNode ids = server.postOk("/tokenize", body("messages", messages, "add_generation_prompt", true)).get("tokens");
    JsonNode completion = server.postOk("/v1/completions", body("prompt", ids, "prompt_logprobs", 1,
        "max_tokens", 1, "temperature", 0)).get("choices").get(0);
    JsonNode fromChat = chat.get("prompt_logprobs");
    assertEquals(chat.get("usage").get("prompt_tokens").asInt(), fromChat.size());
    JsonNode fromCompletion = completion.get("prompt_logprobs");
    assertEquals(fromCompletion.size(), fromChat.size());
    assertTrue(fromChat.get(0).isNull());
    for (int i = 1; i < fromChat.size(); i++) {
      String id = ids.get(i).asText();
      assertEquals(fromCompletion.get(i).get(id).get("logprob").asDouble(),
          fromChat.get(i).get(id).get("logprob").asDouble(), TOLERANCE, "token " + i);
    }
  }

  @Test
  void streamedEchoWithLogprobsLeadsWithThePrompt() throws Exception {
    Forced f = generate("A streamed echo sends the prompt with its logprobs first.", 4);
    List<JsonNode> events = server.postStream("/v1/completions", body("prompt", f.all(), "echo", true,
        "logprobs", 1, "max_tokens", 2, "temperature", 0, "stream", true));
    JsonNode first = events.get(0).get("choices").get(0);
    assertTeacherForced(f, first.get("logprobs"));
    String whole = server.postOk("/v1/completions", body("prompt", f.all(), "echo", true, "max_tokens", 2,
        "temperature", 0)).get("choices").get(0).get("text").asText();
    assertTrue(whole.startsWith(first.get("text").asText()) && first.get("text").asText().length() > whole.length()
        - 20, "the first chunk carries the echoed prompt: " + first.get("text").asText());
  }

  /** The async scheduling path (StepPipeline, OutputStage) carries them the same way, to the same values. */
  @Test
  void asyncSchedulingGivesTheSamePromptLogprobs() throws Exception {
    Forced f = generate("Two steps in flight change nothing in the prompt's logprobs.", 6);
    String echo = body("prompt", f.all(), "echo", true, "logprobs", 1, "prompt_logprobs", 2, "max_tokens", 3,
        "temperature", 0);
    JsonNode sync = server.postOk("/v1/completions", echo).get("choices").get(0);
    try (RealServer async = RealServer.start("--served-model-name", "barista-tiny", "--block-size", "16",
        "--max-num-batched-tokens", "24", "--async-scheduling")) {
      JsonNode choice = async.postOk("/v1/completions", echo).get("choices").get(0);
      assertTeacherForced(f, choice.get("logprobs"));
      assertEquals(sync.get("text"), choice.get("text"));
      assertEquals(sync.get("prompt_logprobs"), choice.get("prompt_logprobs"));
      int entries = choice.get("prompt_logprobs").get(1).size();
      assertTrue(entries == 2 || entries == 3, "the prompt token and the top 2: " + entries);
    }
  }

  @Test
  void promptLogprobsRefusedWhereTheyCannotApply() throws Exception {
    for (String[] bad : new String[][] {
        {"/v1/completions", body("prompt", "x", "prompt_logprobs", 1, "stream", true)},
        {"/v1/chat/completions", body("messages", RealServer.userSays("x"), "prompt_logprobs", 1, "stream", true)},
        {"/v1/completions", body("prompt", "x", "prompt_logprobs", 21)},
        {"/v1/completions", body("prompt", "x", "prompt_logprobs", -1)}}) {
      HttpResponse<String> r = server.post(bad[0], bad[1]);
      assertEquals(400, r.statusCode(), bad[1] + " -> " + r.body());
      assertEquals("prompt_logprobs", RealServer.JSON.readTree(r.body()).get("error").get("param").asText());
    }
  }
}
