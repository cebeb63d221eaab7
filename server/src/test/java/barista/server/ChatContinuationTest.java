package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import barista.scheduler.GenerationRequest;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** continue_final_message and chat echo (vLLM's), and /tokenize counting the same prompt as chat. */
class ChatContinuationTest {
  private static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},"
      + "{\"role\":\"assistant\",\"content\":\"Once upon\"}]";
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String prompt(GenerationRequest g) {
    StringBuilder s = new StringBuilder();
    for (int id : g.promptTokenIds()) s.append((char) id);
    return s.toString();
  }

  @Test
  void continueFinalMessageEndsThePromptInsideIt() throws Exception {
    server.engine.arrivals.clear();
    HttpResponse<String> r = server.post("/v1/chat/completions", "{" + MESSAGES
        + ",\"continue_final_message\":true,\"add_generation_prompt\":false}");
    assertEquals(200, r.statusCode(), r.body());
    // The fake template writes "role: content\n" per message: no newline after the continued one.
    assertEquals("user: Hi\nassistant: Once upon", prompt(server.engine.arrivals.poll(10, TimeUnit.SECONDS)));
    JsonNode tokenized = TestServer.json(server.post("/tokenize", "{" + MESSAGES
        + ",\"continue_final_message\":true,\"add_generation_prompt\":false}"));
    assertEquals("user: Hi\nassistant: Once upon".length(), tokenized.get("count").asInt(), "/tokenize agrees");
  }

  @Test
  void continueFinalMessageNeedsAddGenerationPromptOff() throws Exception {
    HttpResponse<String> r = server.post("/v1/chat/completions", "{" + MESSAGES + ",\"continue_final_message\":true}");
    assertEquals(400, r.statusCode());
    assertEquals("continue_final_message", TestServer.json(r).get("error").get("param").asText());
  }

  @Test
  void echoStartsTheAnswerWithTheFinalAssistantMessage() throws Exception {
    String body = "{" + MESSAGES + ",\"continue_final_message\":true,\"add_generation_prompt\":false,\"echo\":true";
    JsonNode whole = TestServer.json(server.post("/v1/chat/completions", body + "}"));
    String content = whole.get("choices").get(0).get("message").get("content").asText();
    assertEquals("Once uponHello world", content);
    List<JsonNode> events = TestServer.events(server.post("/v1/chat/completions", body + ",\"stream\":true}"));
    StringBuilder streamed = new StringBuilder();
    for (JsonNode e : events) {
      JsonNode delta = e.get("choices").get(0).get("delta");
      if (delta != null && delta.hasNonNull("content")) streamed.append(delta.get("content").asText());
    }
    assertEquals(content, streamed.toString());
    JsonNode userLast = TestServer.json(server.post("/v1/chat/completions",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"echo\":true}"));
    assertEquals("Hello world", userLast.get("choices").get(0).get("message").get("content").asText(),
        "only an assistant message is echoed");
  }
}
