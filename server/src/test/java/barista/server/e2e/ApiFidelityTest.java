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
    server = RealServer.start();
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
    HttpResponse<String> response = server.post("/v1/chat/completions", body("messages", userSays("hi"),
        "logit_bias", Map.of("999999", 5)));
    assertEquals(400, response.statusCode(), response.body());
    JsonNode error = RealServer.JSON.readTree(response.body()).get("error");
    assertEquals("logit_bias", error.get("param").asText());
    assertTrue(error.get("message").asText().contains("999999"), response.body());
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
