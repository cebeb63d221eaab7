package barista.server.e2e;

import static barista.server.e2e.RealServer.body;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** vLLM's extras on the real engine: what each changes in the output (FieldPolicyTest checks what reaches it). */
class VllmExtrasServerTest {
  private static RealServer server;

  @BeforeAll
  static void start() throws Exception {
    server = RealServer.start("--served-model-name", "barista-tiny", "--block-size", "16");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static int cached(JsonNode response) {
    return response.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
  }

  private static int tokenId(String text) throws Exception {
    JsonNode t = server.postOk("/tokenize", body("prompt", text, "add_special_tokens", false));
    assertEquals(1, t.get("count").asInt(), "'" + text + "' is one token");
    return t.get("tokens").get(0).asInt();
  }

  @Test
  void aCacheSaltSharesCachedBlocksOnlyWithTheSameSalt() throws Exception {
    String prompt = "The salted prompt repeats a long sentence so that it fills several blocks of the cache. ".repeat(3);
    assertEquals(0, cached(server.postOk("/v1/completions", body("prompt", prompt, "max_tokens", 1,
        "cache_salt", "alice"))));
    assertEquals(0, cached(server.postOk("/v1/completions", body("prompt", prompt, "max_tokens", 1,
        "cache_salt", "bob"))), "another salt: no hit");
    assertEquals(0, cached(server.postOk("/v1/completions", body("prompt", prompt, "max_tokens", 1))),
        "no salt: no hit on salted blocks");
    assertTrue(cached(server.postOk("/v1/completions", body("prompt", prompt, "max_tokens", 1,
        "cache_salt", "alice"))) > 0, "the same salt hits");
  }

  @Test
  void allowedTokenIdsAndBadWordsShapeTheOutput() throws Exception {
    int a = tokenId("a");
    int b = tokenId("b");
    JsonNode allowed = server.postOk("/v1/completions", body("prompt", "Hello", "max_tokens", 12, "temperature", 1,
        "seed", 3, "ignore_eos", true, "allowed_token_ids", List.of(a, b)));
    String text = allowed.get("choices").get(0).get("text").asText();
    assertTrue(text.matches("[ab]{12}"), text);
    JsonNode banned = server.postOk("/v1/completions", body("prompt", "Hello", "max_tokens", 12, "temperature", 1,
        "seed", 3, "ignore_eos", true, "allowed_token_ids", List.of(a, b), "bad_words", List.of("a")));
    assertEquals("b".repeat(12), banned.get("choices").get(0).get("text").asText());
  }

  @Test
  void truncatePromptTokensAndRequestId() throws Exception {
    JsonNode r = server.postOk("/v1/completions", body("prompt", "one two three four five six seven eight",
        "max_tokens", 1, "truncate_prompt_tokens", 3, "request_id", "job-7"));
    assertEquals(3, r.get("usage").get("prompt_tokens").asInt());
    assertEquals("cmpl-job-7", r.get("id").asText());
    JsonNode chat = server.postOk("/v1/chat/completions", body("messages", RealServer.userSays("hi"),
        "max_tokens", 2, "request_id", "job-7"));
    assertEquals("chatcmpl-job-7", chat.get("id").asText());
    assertFalse(chat.get("choices").get(0).get("message").get("content").isNull());
  }
}
