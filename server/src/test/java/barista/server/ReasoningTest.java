package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** --reasoning-parser deepseek_r1 end to end; the parser's edge cases are in ReasoningParserTest. */
class ReasoningTest {
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer("--reasoning-parser", "deepseek_r1");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void messageSplitsReasoningFromContent() throws Exception {
    server.engine.reply = "<think>\nLet me see.</think>\n\nIt is 4.";
    JsonNode message = TestServer.json(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"2+2?\"}]}")).get("choices").get(0).get("message");
    assertEquals("\nLet me see.", message.get("reasoning_content").asText());
    assertEquals("\n\nIt is 4.", message.get("content").asText());
  }

  @Test
  void streamDeltasSplitEvenWhenTheTagArrivesInPieces() throws Exception {
    server.engine.reply = "Hmm.</think>Four"; // the prompt opened <think>; every character is its own delta
    List<JsonNode> events = TestServer.events(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"2+2?\"}],\"stream\":true}"));
    List<JsonNode> deltas = events.stream().skip(1).map(e -> e.get("choices").get(0).get("delta")).toList();
    String reasoning = deltas.stream().map(d -> d.path("reasoning_content").asText("")).collect(Collectors.joining());
    String content = deltas.stream().map(d -> d.path("content").asText("")).collect(Collectors.joining());
    assertEquals("Hmm.", reasoning);
    assertEquals("Four", content);
    assertTrue(deltas.stream().noneMatch(d -> d.path("content").asText("").contains("<")), "no tag leaks");
  }

  @Test
  void answerCutInsideTheReasoningHasNoContent() throws Exception {
    server.engine.reply = "still thinking";
    JsonNode message = TestServer.json(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"?\"}],\"max_tokens\":5}")).get("choices").get(0)
        .get("message");
    assertEquals("still", message.get("reasoning_content").asText());
    assertTrue(message.get("content").isNull());
  }

  @Test
  void completionsAreNotSplit() throws Exception {
    server.engine.reply = "a</think>b";
    JsonNode choice = TestServer.json(server.post("/v1/completions", "{\"prompt\":\"x\"}")).get("choices").get(0);
    assertEquals("a</think>b", choice.get("text").asText());
  }
}
