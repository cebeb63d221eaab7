package barista.server.e2e;

import static barista.server.e2e.RealServer.body;
import static barista.server.e2e.RealServer.userSays;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * --reasoning-parser deepseek_r1 on the real model. The tiny model's text is random, but it samples {@code </think>}
 * (an added token of its tokenizer) now and then, and seeded sampling is reproducible: /v1/completions over the
 * chat's rendered prompt gives the raw text of each choice, unsplit, and the chat answer must be that text cut at
 * {@code </think>}. The template already opened {@code <think>\n}, so everything before is reasoning.
 */
class ReasoningSplitTest {
  private static final int N = 16;
  private static RealServer server;

  @BeforeAll
  static void start() throws Exception {
    // One sequence at a time and no prefix cache: every choice is computed with the same shapes in all three
    // requests (a float32 matmul rounds differently with another batch, which flips a temperature-1.5 draw now
    // and then), so seeded sampling gives the same text each time.
    server = RealServer.start("--reasoning-parser", "deepseek_r1", "--max-num-seqs", "1",
        "--no-enable-prefix-caching");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** {reasoning, content} as the parser must split raw model text; "" for an absent part. */
  private static String[] split(String raw) {
    String text = raw.startsWith("<think>") ? raw.substring("<think>".length()) : raw;
    int close = text.indexOf("</think>");
    return close < 0 ? new String[] {text, ""}
        : new String[] {text.substring(0, close), text.substring(close + "</think>".length())};
  }

  @Test
  void reasoningEndsAtTheClosingTagInMessagesAndInStreamDeltas() throws Exception {
    List<Map<String, String>> messages = userSays("Why is the sky blue?");
    JsonNode promptIds = server.postOk("/tokenize", body("messages", messages, "return_token_strs", true));
    JsonNode strs = promptIds.get("token_strs");
    assertEquals("<think>", strs.get(strs.size() - 2).asText(), "the template opens the reasoning: " + strs);
    Object[] sampling = {"temperature", 1.5, "seed", 1, "n", N, "max_tokens", 120};

    JsonNode raw = server.postOk("/v1/completions", body(with(sampling, "prompt", promptIds.get("tokens"))));
    JsonNode chat = server.postOk("/v1/chat/completions", body(with(sampling, "messages", messages)));
    List<JsonNode> stream = server.postStream("/v1/chat/completions",
        body(with(sampling, "messages", messages, "stream", true)));

    int splitInside = 0;
    for (int j = 0; j < N; j++) {
      String[] expected = split(raw.get("choices").get(j).get("text").asText());
      JsonNode message = chat.get("choices").get(j).get("message");
      assertEquals(expected[0], message.path("reasoning_content").asText(""), "reasoning of choice " + j);
      assertEquals(expected[1], message.path("content").asText(""), "content of choice " + j);
      assertEquals(expected[0], streamed(stream, j, "reasoning_content"), "streamed reasoning of choice " + j);
      assertEquals(expected[1], streamed(stream, j, "content"), "streamed content of choice " + j);
      if (!expected[0].isEmpty() && !expected[1].isEmpty()) splitInside++;
    }
    assertTrue(splitInside > 0, "no choice closed its reasoning mid-answer (with seed 1, two of sixteen do on the tiny model)");
    assertTrue(splitInside < N, "every choice closed its reasoning; the no-</think> case went untested");
  }

  @Test
  void completionsAreNeverSplit() throws Exception {
    JsonNode choice = server.postOk("/v1/completions", body("prompt", "x</think>y", "echo", true,
        "max_tokens", 1)).get("choices").get(0);
    assertTrue(choice.get("text").asText().startsWith("x</think>y"));
    assertFalse(choice.has("reasoning_content"));
  }

  private static String streamed(List<JsonNode> events, int index, String field) {
    StringBuilder text = new StringBuilder();
    for (JsonNode event : events) {
      for (JsonNode choice : event.get("choices")) {
        JsonNode part = choice.get("delta").get(field);
        if (choice.get("index").asInt() == index && part != null && !part.isNull()) text.append(part.asText());
      }
    }
    return text.toString();
  }

  private static Object[] with(Object[] sampling, Object... fields) {
    return Stream.concat(Arrays.stream(fields), Arrays.stream(sampling)).toArray();
  }
}
