package barista.server.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.config.ServeOptions;
import barista.engine.TestModels;
import barista.server.EngineModelLoader;
import barista.server.ServedModelLoader;
import barista.server.Server;
import barista.server.http.Json;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;

/**
 * Fuzzed JSON bodies (and arbitrary bytes) for every POST endpoint of the real server (tiny model, real tokenizer
 * and chat template): each answer is a 200 or a 4xx with an OpenAI error body, never a 5xx, never a hang.
 * {@code JAZZER_FUZZ=1} fuzzes (see docs/reliability.md); without it the test replays its seeds.
 */
class RequestBodyFuzzTest {
  private static final String[] PATHS = {"/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize"};
  private static ServedModelLoader.Loaded loaded;
  private static Server server;
  private static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @FuzzTest(maxDuration = "60s")
  @DictionaryEntries({"\"messages\"", "\"role\"", "\"content\"", "\"user\"", "\"assistant\"", "\"system\"",
      "\"prompt\"", "\"max_tokens\"", "\"temperature\"", "\"top_p\"", "\"top_k\"", "\"n\"", "\"stop\"", "\"seed\"",
      "\"logprobs\"", "\"top_logprobs\"", "\"stream\"", "\"stream_options\"", "\"include_usage\"", "\"echo\"",
      "\"tokens\"", "\"type\"", "\"text\"", "\"image_url\"", "\"ignore_eos\"", "\"min_tokens\"", "\"model\"",
      "\"stop_token_ids\"", "\"logit_bias\"", "\"chat_template_kwargs\"", "\\ud800", "1e308", "-1", "null", "true"})
  void everyBodyGets200Or4xxWithAnErrorBody(FuzzedDataProvider data) throws Exception {
    String path = data.pickValue(PATHS);
    byte[] body = data.consumeBoolean()
        ? Json.bytes(FuzzedJson.object(data, 0)) // shaped like a request: reaches validation
        : data.consumeRemainingAsBytes(); // anything: reaches the JSON parser and its error path
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    int status = response.statusCode();
    assertTrue(status == 200 || (status >= 400 && status < 500), () -> status + " " + response.body());
    if (status != 200) {
      JsonNode error = Json.MAPPER.readTree(response.body()).get("error");
      assertEquals(status, error.get("code").asInt(), response::body);
      assertFalse(error.get("message").asText().isBlank(), response::body);
    } else if (response.body().startsWith("data: ")) {
      for (String event : response.body().split("\n\n")) {
        String payload = event.substring("data: ".length());
        if (!payload.equals("[DONE]")) assertFalse(Json.MAPPER.readTree(payload).has("error"), response::body);
      }
    }
  }

  private static synchronized URI uri(String path) throws Exception {
    if (server == null) {
      ServeOptions options = ServeOptions.parse("--model", TestModels.tiny().toString(), "--device", "cpu",
          "--host", "127.0.0.1", "--port", "0", "--kv-cache-space", "0.005", "--disable-log-stats",
          "--disable-log-requests", "--log-level", "warning",
          // Jazzer's start between the seed replay and the fuzzing can outlast the 5 s default, and this test is
          // not about idle connections (ConnectionLimitsTest is).
          "--timeout-keep-alive", "3600");
      loaded = new EngineModelLoader().load(options);
      server = Server.start(options, new AbortingEngine(loaded.engine()), loaded.model());
    }
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) server.close();
    if (loaded != null) loaded.resources().close();
  }
}
