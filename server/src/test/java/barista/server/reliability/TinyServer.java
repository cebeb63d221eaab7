package barista.server.reliability;

import barista.config.ServeOptions;
import barista.engine.TestModels;
import barista.scheduler.EngineStatus;
import barista.server.EngineModelLoader;
import barista.server.ServedModelLoader;
import barista.server.Server;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real server on the real engine: the tiny synthetic model on CPU, a free loopback port, a small KV cache
 * (a few hundred blocks) so leaks show, and an HTTP client.
 */
final class TinyServer implements AutoCloseable {
  static final int MAX_MODEL_LEN = 4096;

  final Server server;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final ServedModelLoader.Loaded loaded;

  /** Without the one log line per request. */
  TinyServer(String... args) throws Exception {
    this(false, args);
  }

  TinyServer(boolean logRequests, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--model", TestModels.tiny().toString(), "--device", "cpu",
        "--host", "127.0.0.1", "--port", "0", "--max-model-len", String.valueOf(MAX_MODEL_LEN),
        "--kv-cache-space", "0.005", "--disable-log-stats", "--shutdown-timeout", "2"));
    if (!logRequests) all.add("--disable-log-requests");
    all.addAll(List.of(args));
    ServeOptions options = ServeOptions.parse(all.toArray(String[]::new));
    loaded = new EngineModelLoader().load(options);
    try {
      server = Server.start(options, loaded.engine(), loaded.model());
    } catch (RuntimeException | InterruptedException e) {
      loaded.resources().close();
      throw e;
    }
  }

  int port() {
    return server.port();
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port() + path);
  }

  HttpRequest.Builder request(String path, String json) {
    return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
  }

  HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
    return client.send(request(path, json).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  EngineStatus engineStatus() {
    return loaded.engine().status();
  }

  /** One sample of /metrics, e.g. {@code vllm:kv_cache_usage_perc}, read as a client would. */
  double metric(String name) throws IOException, InterruptedException {
    String text = get("/metrics").body();
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{[^}]*\\} (\\S+)$").matcher(text);
    if (!m.find()) throw new AssertionError(name + " is not in /metrics");
    return Double.parseDouble(m.group(1));
  }

  /** True when /metrics shows no request in the engine and no KV block held. */
  boolean idle() {
    try {
      return metric("vllm:kv_cache_usage_perc") == 0 && metric("vllm:num_requests_running") == 0
          && metric("vllm:num_requests_waiting") == 0;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Polls a condition until it holds; fails with {@code what} at the deadline. */
  static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting until " + what);
      }
      Thread.sleep(5);
    }
  }

  static JsonNode json(HttpResponse<String> response) throws IOException {
    return Json.MAPPER.readTree(response.body());
  }

  @Override
  public void close() {
    server.close();
    try {
      loaded.resources().close();
    } catch (Exception e) {
      throw new IllegalStateException("closing the engine failed", e);
    }
  }
}
