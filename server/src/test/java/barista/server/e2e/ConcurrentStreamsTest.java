package barista.server.e2e;

import static barista.server.e2e.RealServer.body;
import static barista.server.e2e.RealServer.userSays;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching changes nothing about greedy text: 20 streams at once, on a fresh server, answer as the same 20
 * one by one on a server with prefix caching off.
 */
class ConcurrentStreamsTest {
  static final int REQUESTS = 20;

  /** Request {@code i}: a different prompt each, half chat and half completions, of different lengths. */
  static String request(int i) {
    String prompt = "Request " + i + ": " + "tell me something new. ".repeat(1 + i % 4);
    return i % 2 == 0
        ? body("messages", userSays(prompt), "temperature", 0, "max_tokens", 24 + i, "stream", true)
        : body("prompt", prompt, "temperature", 0, "max_tokens", 24 + i, "stream", true);
  }

  static String path(int i) {
    return i % 2 == 0 ? "/v1/chat/completions" : "/v1/completions";
  }

  /** The text a stream carried, and how it finished. */
  static String answer(List<JsonNode> events) {
    StringBuilder text = new StringBuilder();
    String finish = null;
    for (JsonNode event : events) {
      for (JsonNode choice : event.get("choices")) {
        JsonNode part = choice.has("delta") ? choice.get("delta").get("content") : choice.get("text");
        if (part != null && !part.isNull()) text.append(part.asText());
        if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asText();
      }
    }
    return finish + ": " + text;
  }

  /**
   * The answers one at a time, from a server of their own with prefix caching off: a first pass on the server under
   * test would fill its prefix cache, so the concurrent pass would mostly reuse blocks instead of prefilling in a
   * batch.
   */
  static List<String> aloneWithoutPrefixCaching() throws Exception {
    List<String> alone = new ArrayList<>();
    try (RealServer reference = RealServer.start("--no-enable-prefix-caching")) {
      for (int i = 0; i < REQUESTS; i++) alone.add(answer(reference.postStream(path(i), request(i))));
      assertEquals(0, EndToEndTest.metric(reference.get("/metrics").body(), "vllm:prefix_cache_hits_total"));
    }
    return alone;
  }

  @Test
  void twentyConcurrentStreamsMatchTheSameRequestsOneAtATime() throws Exception {
    List<String> alone = aloneWithoutPrefixCaching();
    try (RealServer server = RealServer.start()) { // fresh: its prefix cache is empty
      ExecutorService clients = Executors.newFixedThreadPool(REQUESTS);
      try {
        List<Callable<String>> calls = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
          int r = i;
          calls.add(() -> answer(server.postStream(path(r), request(r))));
        }
        List<Future<String>> together = clients.invokeAll(calls);
        for (int i = 0; i < REQUESTS; i++) assertEquals(alone.get(i), together.get(i).get(), "request " + i);
      } finally {
        clients.shutdownNow();
      }
    }
  }
}
