package barista.server.e2e;

import static barista.server.e2e.RealServer.body;
import static barista.server.e2e.RealServer.userSays;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** logit_bias and developer messages on the real engine and the tiny model's R1 chat template. */
class ApiFidelityTest {
  private static RealServer server;

  @BeforeAll
  static void start() throws Exception {
    // One sequence at a time, no prefix cache: n 5 and best_of 5 compute each candidate with the same shapes, so
    // their seeded samples agree (see ReasoningSplitTest).
    server = RealServer.start("--max-num-seqs", "1", "--no-enable-prefix-caching");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void plusHundredMakesEveryGreedyTokenThatId() throws Exception {
    int id = 300;
    String text = server.postOk("/v1/completions", body("prompt", "The capital of France is", "max_tokens", 12,
        "temperature", 0, "ignore_eos", true, "logit_bias", Map.of(String.valueOf(id), 100))).get("choices").get(0)
        .get("text").asText();
    String piece = server.postOk("/detokenize", body("tokens", List.of(id))).get("prompt").asText();
    assertEquals(piece.repeat(12), text, "every one of 12 greedy tokens is id " + id);
  }

  @Test
  void minusHundredBansATokenTheModelWouldPick() throws Exception {
    JsonNode free = server.postOk("/v1/completions", body("prompt", "The capital of France is", "max_tokens", 12,
        "temperature", 0, "ignore_eos", true));
    JsonNode ids = server.postOk("/tokenize", body("prompt", free.get("choices").get(0).get("text").asText(),
        "add_special_tokens", false)).get("tokens");
    int first = ids.get(0).asInt();
    JsonNode banned = server.postOk("/v1/completions", body("prompt", "The capital of France is", "max_tokens", 12,
        "temperature", 0, "ignore_eos", true, "logit_bias", Map.of(String.valueOf(first), -100)));
    String text = banned.get("choices").get(0).get("text").asText();
    assertNotEquals(free.get("choices").get(0).get("text").asText(), text);
    JsonNode bannedIds = server.postOk("/tokenize", body("prompt", text, "add_special_tokens", false)).get("tokens");
    for (JsonNode t : bannedIds) assertNotEquals(first, t.asInt(), "banned id " + first + " appears in " + text);
  }

  @Test
  void idsOutsideTheVocabularyAre400() throws Exception {
    assertRefused("logit_bias", body("messages", userSays("hi"), "logit_bias", Map.of("999999", 5)));
    // Banned until min_tokens, a stop id outside the vocabulary used to fail the engine step (and /health).
    assertRefused("stop_token_ids", body("messages", userSays("hi"), "min_tokens", 2, "max_tokens", 4,
        "stop_token_ids", List.of(999999)));
    assertEquals(200, server.get("/health").statusCode());
  }

  private static void assertRefused(String field, String request) throws Exception {
    HttpResponse<String> response = server.post("/v1/chat/completions", request);
    assertEquals(400, response.statusCode(), response.body());
    JsonNode error = RealServer.JSON.readTree(response.body()).get("error");
    assertEquals(field, error.get("param").asText());
    assertTrue(error.get("message").asText().contains("999999"), response.body());
  }

  /**
   * best_of 5, n 2: the two of five candidates with the highest cumulative logprob. The j-th candidate samples with
   * seed + j, as the j-th choice of n 5 does, so n 5 with logprobs shows every candidate and its cumulative logprob.
   */
  @Test
  void bestOfReturnsTheNCandidatesOfHighestCumulativeLogprob() throws Exception {
    Object[] sampling = {"prompt", "Once upon a time", "max_tokens", 8, "temperature", 1.0, "seed", 11,
        "ignore_eos", true};
    JsonNode all = server.postOk("/v1/completions", body(with(sampling, "n", 5, "logprobs", 0)));
    List<double[]> ranked = new ArrayList<>(); // {cumulative logprob, candidate}
    for (int j = 0; j < 5; j++) {
      double sum = 0;
      for (JsonNode lp : all.get("choices").get(j).get("logprobs").get("token_logprobs")) sum += lp.asDouble();
      ranked.add(new double[] {sum, j});
    }
    ranked.sort((a, b) -> a[0] != b[0] ? Double.compare(b[0], a[0]) : Double.compare(a[1], b[1]));
    assertNotEquals(ranked.get(0)[1], 0.0, "with seed 11 the best candidate is not the first, so ranking shows");

    JsonNode best = server.postOk("/v1/completions", body(with(sampling, "n", 2, "best_of", 5)));
    JsonNode choices = best.get("choices");
    assertEquals(2, choices.size());
    for (int i = 0; i < 2; i++) {
      JsonNode expected = all.get("choices").get((int) ranked.get(i)[1]);
      assertEquals(i, choices.get(i).get("index").asInt());
      assertEquals(expected.get("text").asText(), choices.get(i).get("text").asText(), "rank " + i);
      assertTrue(choices.get(i).get("logprobs").isNull(), "logprobs were not asked for");
    }
    assertEquals(16, best.get("usage").get("completion_tokens").asInt(), "the returned choices' tokens");
  }

  private static Object[] with(Object[] fields, Object... more) {
    List<Object> all = new ArrayList<>(List.of(fields));
    all.addAll(List.of(more));
    return all.toArray();
  }

  @Test
  void aDeveloperMessageRendersExactlyAsASystemMessage() throws Exception {
    List<Map<String, String>> asDeveloper = List.of(Map.of("role", "developer", "content", "Answer in French."),
        Map.of("role", "user", "content", "hi"));
    List<Map<String, String>> asSystem = List.of(Map.of("role", "system", "content", "Answer in French."),
        Map.of("role", "user", "content", "hi"));
    JsonNode developer = server.postOk("/tokenize", body("messages", asDeveloper)).get("tokens");
    assertEquals(server.postOk("/tokenize", body("messages", asSystem)).get("tokens"), developer);
    assertNotEquals(server.postOk("/tokenize", body("messages", userSays("hi"))).get("tokens"), developer,
        "the developer's instructions are in the prompt");
  }
}
