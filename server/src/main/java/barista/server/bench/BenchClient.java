package barista.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** Sends benchmark requests to an OpenAI-compatible server and times them; every request ends within the timeout. */
final class BenchClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What every request of a run shares; {@code responseFormat} is sent as it is when not null. */
  record Settings(URI baseUrl, String model, boolean chat, boolean stream, boolean ignoreEos, double temperature,
      Duration timeout, JsonNode responseFormat) {}

  private final Settings settings;
  private final HttpClient http;
  // Cuts a response body off at the timeout: HttpRequest.timeout only covers the wait for the headers.
  private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread thread = new Thread(r, "bench-deadlines");
    thread.setDaemon(true);
    return thread;
  });

  BenchClient(Settings settings) {
    this.settings = settings;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(settings.timeout())
        .build();
  }

  /** The id of the first model GET /v1/models lists. */
  static String firstModel(URI baseUrl, Duration timeout) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
    HttpRequest request = HttpRequest.newBuilder(baseUrl.resolve("/v1/models")).timeout(timeout).GET().build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IOException("cannot reach " + request.uri() + ": " + e);
    }
    JsonNode id = JSON.readTree(response.body()).path("data").path(0).path("id");
    if (response.statusCode() != 200 || !id.isTextual()) {
      throw new IOException(request.uri() + " lists no model (HTTP " + response.statusCode() + "): "
          + abbreviate(response.body()));
    }
    return id.asText();
  }

  /** Sends one request and measures it; failures (HTTP errors, timeouts, broken streams) become failed results. */
  RequestResult send(BenchPrompt prompt) throws InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(settings.baseUrl().resolve(
            settings.chat() ? "/v1/chat/completions" : "/v1/completions"))
        .timeout(settings.timeout())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body(prompt)))
        .build();
    long start = System.nanoTime();
    AtomicBoolean timedOut = new AtomicBoolean();
    ScheduledFuture<?> deadline = null;
    try {
      HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      InputStream body = response.body();
      long left = settings.timeout().toNanos() - (System.nanoTime() - start);
      deadline = deadlines.schedule(() -> {
        timedOut.set(true);
        closeQuietly(body);
      }, left, TimeUnit.NANOSECONDS);
      RequestResult result = read(response, body, start);
      if (timedOut.get()) return RequestResult.failure(timeoutMessage(), result.latency());
      if (result.promptTokens() == 0 && prompt.tokenIds() != null) {
        result = new RequestResult(result.success(), result.error(), prompt.tokenIds().length, result.outputTokens(),
            result.ttft(), result.interTokenLatencies(), result.latency());
      }
      return result;
    } catch (IOException e) {
      String error = timedOut.get() || e instanceof java.net.http.HttpTimeoutException ? timeoutMessage() : e.toString();
      return RequestResult.failure(error, StreamMeter.seconds(System.nanoTime() - start));
    } finally {
      if (deadline != null) deadline.cancel(false);
    }
  }

  private String timeoutMessage() {
    return "timed out after " + settings.timeout().toMillis() / 1000.0 + " s";
  }

  private RequestResult read(HttpResponse<InputStream> response, InputStream body, long start) throws IOException {
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      if (response.statusCode() != 200 || !settings.stream()) {
        String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
        return whole(response.statusCode(), text, StreamMeter.seconds(System.nanoTime() - start));
      }
      StreamMeter meter = new StreamMeter(start);
      SseEvents events = new SseEvents(reader);
      for (String data = events.next(); data != null; data = events.next()) meter.onEvent(data, System.nanoTime());
      return meter.result(System.nanoTime());
    }
  }

  /** A response read whole: an error, or a non-streamed completion with its usage. */
  private static RequestResult whole(int status, String text, double latency) {
    JsonNode json;
    try {
      json = JSON.readTree(text);
    } catch (IOException e) {
      return RequestResult.failure("HTTP " + status + ": " + abbreviate(text), latency);
    }
    if (status != 200) {
      return RequestResult.failure("HTTP " + status + ": " + json.path("error").path("message").asText(
          abbreviate(text)), latency);
    }
    JsonNode usage = json.path("usage");
    return new RequestResult(true, null, usage.path("prompt_tokens").asInt(), usage.path("completion_tokens").asInt(),
        null, java.util.List.of(), latency);
  }

  private byte[] body(BenchPrompt prompt) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", settings.model());
    if (settings.chat()) {
      ObjectNode message = body.putArray("messages").addObject();
      message.put("role", "user");
      message.put("content", prompt.text());
    } else if (prompt.tokenIds() != null) {
      var ids = body.putArray("prompt");
      for (int id : prompt.tokenIds()) ids.add(id);
    } else {
      body.put("prompt", prompt.text());
    }
    body.put("max_tokens", prompt.maxTokens());
    body.put("temperature", settings.temperature());
    if (settings.ignoreEos()) body.put("ignore_eos", true);
    if (settings.responseFormat() != null) body.set("response_format", settings.responseFormat());
    body.put("stream", settings.stream());
    if (settings.stream()) {
      body.putObject("stream_options").put("include_usage", true).put("continuous_usage_stats", true);
    }
    try {
      return JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String abbreviate(String text) {
    String line = text.strip().replace('\n', ' ');
    return line.length() <= 200 ? line : line.substring(0, 200) + "...";
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // the reader sees the stream closed and reports the timeout
    }
  }

  @Override
  public void close() {
    deadlines.shutdownNow();
  }
}
