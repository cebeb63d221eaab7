package barista.server.e2e;

import static barista.server.e2e.RealServer.body;
import static barista.server.e2e.RealServer.userSays;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * {@code --async-scheduling} forced on over the tiny model on the CPU: concurrent greedy streams (chat and
 * completions, stop strings, max_tokens, n = 2, penalties, bad words) and seeded json_schema streams beside them carry the same text,
 * finish reasons and usage as with {@code --no-async-scheduling}.
 */
class AsyncSchedulingServerTest {
  private static final int REQUESTS = 12;

  private static String request(int i, String stop) {
    String prompt = "Request " + i + ": " + "say more. ".repeat(1 + i % 3);
    List<Object> fields = new ArrayList<>(List.of("temperature", 0, "max_tokens", 20 + i, "stream", true,
        "stream_options", Map.of("include_usage", true)));
    if (stop != null) fields.addAll(List.of("stop", List.of(stop)));
    if (i % 4 == 1) fields.addAll(List.of("n", 2));
    // Penalties and bad words read each row's history, the token fed by the step before included.
    if (i % 4 == 3) fields.addAll(List.of("repetition_penalty", 1.5, "frequency_penalty", 0.8, "presence_penalty", 0.3));
    if (i % 4 == 2) fields.addAll(List.of("bad_words", List.of("say more", "more.")));
    fields.addAll(i % 2 == 0 ? List.of("messages", userSays(prompt)) : List.of("prompt", prompt));
    return body(fields.toArray());
  }

  /** Seeded sampling under a json_schema constraint: the masks of rows that run ahead are completed late. */
  private static String constrained(int seed) {
    Map<String, Object> schema = Map.of("type", "object", "properties", Map.of(
        "name", Map.of("type", "string", "maxLength", 12), "n", Map.of("type", "integer")),
        "required", List.of("name", "n"));
    return body("messages", userSays("A record, please"), "temperature", 1.0, "seed", seed, "max_tokens", 60,
        "stream", true, "stream_options", Map.of("include_usage", true),
        "response_format", Map.of("type", "json_schema", "json_schema", Map.of("name", "r", "schema", schema)));
  }

  private static String path(int i) {
    return i % 2 == 0 || i >= REQUESTS ? "/v1/chat/completions" : "/v1/completions";
  }

  /** Per choice: finish reason and text; then the usage's token counts. */
  private static String answer(List<JsonNode> events) {
    StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
    String[] finish = new String[2];
    String usage = null;
    for (JsonNode event : events) {
      if (event.hasNonNull("usage")) { // cached_tokens aside: the first server's cache is warm by its second pass
        JsonNode u = event.get("usage");
        usage = u.get("prompt_tokens") + "+" + u.get("completion_tokens") + "=" + u.get("total_tokens");
      }
      for (JsonNode choice : event.get("choices")) {
        int index = choice.get("index").asInt();
        JsonNode part = choice.has("delta") ? choice.get("delta").get("content") : choice.get("text");
        if (part != null && !part.isNull()) text[index].append(part.asText());
        if (!choice.get("finish_reason").isNull()) finish[index] = choice.get("finish_reason").asText();
      }
    }
    return finish[0] + ": " + text[0] + " | " + finish[1] + ": " + text[1] + " | " + usage;
  }

  private static List<String> concurrently(RealServer server, List<String> requests) throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(requests.size());
    try {
      List<Callable<String>> calls = new ArrayList<>();
      for (int i = 0; i < requests.size(); i++) {
        int r = i;
        calls.add(() -> answer(server.postStream(path(r), requests.get(r))));
      }
      List<String> answers = new ArrayList<>();
      for (Future<String> f : clients.invokeAll(calls)) answers.add(f.get());
      return answers;
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void streamsMatchWithAndWithoutAsyncScheduling() throws Exception {
    List<String> requests = new ArrayList<>();
    List<String> expected;
    try (RealServer sync = RealServer.start("--no-async-scheduling")) {
      // Stop strings cut from what each request says unstopped, so that most of them do stop early.
      List<String> plain = new ArrayList<>();
      for (int i = 0; i < REQUESTS; i++) plain.add(request(i, null));
      List<String> unstopped = concurrently(sync, plain);
      for (int i = 0; i < REQUESTS; i++) {
        String a = unstopped.get(i);
        String text = a.substring(a.indexOf(": ") + 2, a.indexOf(" | "));
        requests.add(request(i, i % 3 == 2 || text.length() < 12 ? null : text.substring(8, 10)));
      }
      for (int seed = 0; seed < 4; seed++) requests.add(constrained(seed));
      expected = concurrently(sync, requests);
    }
    try (RealServer async = RealServer.start("--async-scheduling")) {
      List<String> actual = concurrently(async, requests);
      for (int i = 0; i < requests.size(); i++) assertEquals(expected.get(i), actual.get(i), "request " + i);
    }
    assertTrue(expected.stream().anyMatch(a -> a.startsWith("stop:")), "some requests stopped on their string");
    assertTrue(expected.stream().anyMatch(a -> a.startsWith("length:")), "some ran to max_tokens");
    for (String a : expected.subList(REQUESTS, expected.size())) {
      assertTrue(a.startsWith("stop: {") && a.contains("\"name\"") && a.contains("\"n\""), "valid JSON record: " + a);
    }
  }
}
