package barista.server;

import barista.config.ServeOptions;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The real server on a free loopback port over a fake engine and model, with an HTTP client. */
final class TestServer implements AutoCloseable {
  static final int MAX_MODEL_LEN = 256;

  final FakeEngine engine = new FakeEngine();
  final FakeModel model;
  final Server server;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  TestServer(String... args) throws InterruptedException {
    this(MAX_MODEL_LEN, args);
  }

  TestServer(int maxModelLen, String... args) throws InterruptedException {
    model = new FakeModel(List.of("fake-model", "alias"), maxModelLen);
    List<String> all = new ArrayList<>(List.of("--host", "127.0.0.1", "--port", "0", "--disable-log-stats",
        "--shutdown-timeout", "1"));
    all.addAll(List.of(args));
    server = Server.start(ServeOptions.parse(all.toArray(String[]::new)), engine, model);
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  HttpResponse<String> post(String path, String json, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json));
    if (headers.length > 0) request.headers(headers);
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
    if (headers.length > 0) request.headers(headers);
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A streamed completion that the engine holds until it is aborted (a request in flight for shutdown tests),
   * returned once it reached the engine; {@code before} requests were sent earlier and are skipped.
   */
  java.util.concurrent.CompletableFuture<HttpResponse<String>> stalledStream(int before) throws InterruptedException {
    engine.stall = true;
    java.util.concurrent.CompletableFuture<HttpResponse<String>> running = client.sendAsync(
        HttpRequest.newBuilder(uri("/v1/completions")).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(
                "{\"model\":\"fake-model\",\"prompt\":\"hi\",\"max_tokens\":50,\"stream\":true}")).build(),
        HttpResponse.BodyHandlers.ofString());
    for (int i = 0; i < before; i++) engine.arrivals.poll(10, java.util.concurrent.TimeUnit.SECONDS);
    if (engine.arrivals.poll(10, java.util.concurrent.TimeUnit.SECONDS) == null) {
      throw new AssertionError("the stream never reached the engine");
    }
    return running;
  }

  static JsonNode json(HttpResponse<String> response) throws IOException {
    return Json.MAPPER.readTree(response.body());
  }

  /** The JSON of each "data:" event of an event stream, [DONE] excluded (it must be last). */
  static List<JsonNode> events(HttpResponse<String> response) throws IOException {
    List<String> data = Stream.of(response.body().split("\n\n")).filter(e -> !e.isBlank())
        .map(e -> {
          if (!e.startsWith("data: ")) throw new AssertionError("not an SSE data event: " + e);
          return e.substring("data: ".length());
        }).toList();
    if (data.isEmpty() || !data.get(data.size() - 1).equals("[DONE]")) {
      throw new AssertionError("stream does not end with [DONE]: " + response.body());
    }
    List<JsonNode> events = new ArrayList<>();
    for (String d : data.subList(0, data.size() - 1)) events.add(Json.MAPPER.readTree(d));
    return events;
  }

  @Override
  public void close() {
    server.close();
    engine.close();
  }
}
