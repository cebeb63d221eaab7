package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * 64 requests with different seeds, sampling settings, stop strings, lengths, n and logprobs, run together in one
 * batch on a fresh server, give what each gives alone on a server with prefix caching off: the same tokens, text and
 * finish reasons (logprob values up to float32 rounding). No request sees another's settings, random stream or text.
 */
class IsolationTest {
  private static final int REQUESTS = 64;
  private static final double LOGPROB_TOLERANCE = 1e-4;

  @Test
  void concurrentVariedRequestsMatchTheirOneAtATimeResults() throws Exception {
    List<Request> requests = varied(new Random(2024));
    // One at a time on a server of their own with prefix caching off, so the batched pass below, on a fresh server,
    // prefills every prompt instead of reusing blocks the first pass cached.
    List<JsonNode> alone = new ArrayList<>();
    try (TinyServer reference = new TinyServer("--no-enable-prefix-caching")) {
      for (Request r : requests) alone.add(choices(reference.post(r.path, r.body)));
    }
    try (TinyServer s = new TinyServer()) {
      List<CompletableFuture<HttpResponse<String>>> together = new ArrayList<>();
      for (Request r : requests) {
        together.add(s.client.sendAsync(s.request(r.path, r.body).build(), HttpResponse.BodyHandlers.ofString()));
      }
      for (int i = 0; i < REQUESTS; i++) {
        assertSame(alone.get(i), choices(together.get(i).get(60, TimeUnit.SECONDS)), requests.get(i).body + " choices");
      }
    }
  }

  private record Request(String path, String body) {}

  private static List<Request> varied(Random random) {
    List<Request> requests = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      boolean chat = i % 2 == 0;
      ObjectNode body = Json.object();
      if (chat) {
        body.putArray("messages").addObject().put("role", "user").put("content", "Request " + i + " says hello");
      } else {
        body.put("prompt", "Prompt number " + i + ":");
      }
      if (i % 3 == 0) {
        body.put("temperature", 0.0);
      } else {
        body.put("temperature", new double[] {0.5, 0.8, 1.0, 1.5}[random.nextInt(4)]);
        body.put("seed", 1000 + i);
        body.put("top_p", new double[] {1.0, 0.9, 0.6}[random.nextInt(3)]);
        body.put("top_k", new int[] {-1, 3, 20}[random.nextInt(3)]);
      }
      if (random.nextInt(3) == 0) body.putArray("stop").add(String.valueOf((char) ('a' + random.nextInt(26))))
          .add("th");
      body.put("max_tokens", 4 + random.nextInt(45));
      body.put("n", 1 + random.nextInt(3));
      if (random.nextBoolean()) {
        if (chat) {
          body.put("logprobs", true).put("top_logprobs", random.nextInt(4));
        } else {
          body.put("logprobs", random.nextInt(4));
        }
      }
      requests.add(new Request(chat ? "/v1/chat/completions" : "/v1/completions", body.toString()));
    }
    return requests;
  }

  /** The choices of a 200 response: what must not depend on the company a request keeps. */
  private static JsonNode choices(HttpResponse<String> response) throws Exception {
    assertEquals(200, response.statusCode(), response.body());
    return TinyServer.json(response).get("choices");
  }

  /**
   * Equal JSON, except that logprob values may differ by float32 rounding: a batched matmul sums in another order
   * than a lone one (seen: 5e-7). Tokens, text, finish reasons and the order of top logprobs must be identical.
   */
  private static void assertSame(JsonNode expected, JsonNode actual, String path) {
    if (path.contains("logprobs") && expected.isFloatingPointNumber() && actual.isFloatingPointNumber()) {
      assertEquals(expected.asDouble(), actual.asDouble(), LOGPROB_TOLERANCE, path);
      return;
    }
    assertEquals(expected.getNodeType(), actual.getNodeType(), path);
    if (expected.isContainerNode()) {
      assertEquals(expected.size(), actual.size(), path + " size");
      if (expected.isArray()) {
        for (int i = 0; i < expected.size(); i++) assertSame(expected.get(i), actual.get(i), path + "[" + i + "]");
      } else {
        expected.fieldNames().forEachRemaining(f -> assertSame(expected.get(f), actual.path(f), path + "." + f));
      }
    } else {
      assertEquals(expected, actual, path);
    }
  }
}
