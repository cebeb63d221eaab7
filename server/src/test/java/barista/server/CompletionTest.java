package barista.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CompletionTest {
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
  void textPromptHasTheCompletionShape() throws Exception {
    JsonNode body = TestServer.json(server.post("/v1/completions",
        "{\"model\":\"fake-model\",\"prompt\":\"Once\",\"max_tokens\":5}"));
    assertTrue(body.get("id").asText().startsWith("cmpl-"));
    assertEquals("text_completion", body.get("object").asText());
    JsonNode choice = body.get("choices").get(0);
    assertEquals("Hello", choice.get("text").asText());
    assertEquals("length", choice.get("finish_reason").asText());
    assertTrue(choice.get("logprobs").isNull());
    assertEquals(4, body.get("usage").get("prompt_tokens").asInt());
    assertEquals(5, body.get("usage").get("completion_tokens").asInt());
  }

  @Test
  void severalPromptsEachGetNChoicesInPromptOrder() throws Exception {
    JsonNode body = TestServer.json(server.post("/v1/completions",
        "{\"prompt\":[\"ab\",\"cde\"],\"n\":2,\"max_tokens\":2}"));
    JsonNode choices = body.get("choices");
    assertEquals(4, choices.size());
    String id = body.get("id").asText();
    for (int i = 0; i < 4; i++) {
      assertEquals(i, choices.get(i).get("index").asInt());
      int promptLength = server.engine.request(id + "-" + i).promptTokenIds().length;
      assertEquals(i < 2 ? 2 : 3, promptLength, "choices 0,1 belong to the first prompt");
    }
    assertEquals(5, body.get("usage").get("prompt_tokens").asInt(), "each prompt counts once");
    assertEquals(8, body.get("usage").get("completion_tokens").asInt());
  }

  @Test
  void tokenIdPromptsGoToTheEngineAsGiven() throws Exception {
    JsonNode body = TestServer.json(server.post("/v1/completions",
        "{\"prompt\":[[72,105],[33]],\"max_tokens\":1}"));
    String id = body.get("id").asText();
    assertArrayEquals(new int[] {72, 105}, server.engine.request(id + "-0").promptTokenIds());
    assertArrayEquals(new int[] {33}, server.engine.request(id + "-1").promptTokenIds());
    JsonNode single = TestServer.json(server.post("/v1/completions", "{\"prompt\":[72,105,33],\"max_tokens\":1}"));
    assertArrayEquals(new int[] {72, 105, 33},
        server.engine.request(single.get("id").asText() + "-0").promptTokenIds());
  }

  @Test
  void echoPutsThePromptFirst() throws Exception {
    JsonNode text = TestServer.json(server.post("/v1/completions",
        "{\"prompt\":\"Say: \",\"max_tokens\":2,\"echo\":true}"));
    assertEquals("Say: He", text.get("choices").get(0).get("text").asText());
    JsonNode ids = TestServer.json(server.post("/v1/completions",
        "{\"prompt\":[72,105],\"max_tokens\":2,\"echo\":true}"));
    assertEquals("HiHe", ids.get("choices").get(0).get("text").asText(), "token prompts are echoed decoded");
    List<JsonNode> events = TestServer.events(server.post("/v1/completions",
        "{\"prompt\":\"Say: \",\"max_tokens\":2,\"echo\":true,\"stream\":true}"));
    assertEquals("Say: ", events.get(0).get("choices").get(0).get("text").asText());
  }

  @Test
  void logprobsHaveTheLegacyShape() throws Exception {
    JsonNode logprobs = TestServer.json(server.post("/v1/completions",
        "{\"prompt\":\"x\",\"max_tokens\":3,\"logprobs\":1}")).get("choices").get(0).get("logprobs");
    assertEquals(List.of("H", "e", "l"), strings(logprobs.get("tokens")));
    assertEquals(-0.5, logprobs.get("token_logprobs").get(2).asDouble());
    assertEquals(List.of("0", "1", "2"), strings(logprobs.get("text_offset")));
    JsonNode top = logprobs.get("top_logprobs").get(0);
    assertEquals(-0.5, top.get("H").asDouble(), "the sampled token is among the top");
    assertEquals(-1.0, top.get("a").asDouble());
    assertEquals(2, top.size());
  }

  /**
   * Responses large enough to be serialized on the request worker pool (rather than the event loop) arrive whole:
   * one of 4,000 tokens, and one of 300 tokens with logprobs.
   */
  @Test
  void largeResponsesSerializedOffTheLoopArriveWhole() throws Exception {
    String reply = "abcdefghij".repeat(400);
    try (TestServer large = new TestServer(8192)) {
      large.engine.reply = reply;
      JsonNode body = TestServer.json(large.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":4000}"));
      assertEquals(reply, body.get("choices").get(0).get("text").asText());
      assertEquals(4000, body.get("usage").get("completion_tokens").asInt());
      JsonNode logprobs = TestServer.json(large.post("/v1/completions",
          "{\"prompt\":\"x\",\"max_tokens\":300,\"logprobs\":1}")).get("choices").get(0).get("logprobs");
      assertEquals(300, logprobs.get("tokens").size());
      assertEquals(reply.substring(0, 300), String.join("", strings(logprobs.get("tokens"))));
    }
  }

  private static List<String> strings(JsonNode array) {
    return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }

  @Test
  void streamingDeltasAddUpToTheText() throws Exception {
    List<JsonNode> events = TestServer.events(server.post("/v1/completions",
        "{\"prompt\":\"x\",\"max_tokens\":20,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"));
    assertEquals("text_completion", events.get(0).get("object").asText());
    String text = events.stream().filter(e -> e.get("choices").size() > 0)
        .map(e -> e.get("choices").get(0).get("text").asText()).collect(Collectors.joining());
    assertEquals("Hello world", text);
    JsonNode last = events.get(events.size() - 1);
    assertEquals(11, last.get("usage").get("completion_tokens").asInt());
    assertEquals("stop", events.get(events.size() - 2).get("choices").get(0).get("finish_reason").asText());
  }
}
