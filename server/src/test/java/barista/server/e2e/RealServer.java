package barista.server.e2e;

import barista.config.ServeOptions;
import barista.engine.TestModels;
import barista.server.EngineModelLoader;
import barista.server.ServedModelLoader;
import barista.server.Server;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The real server over the real engine: the tiny synthetic checkpoint on CPU, a free loopback port, options parsed
 * from a vLLM-style argument list exactly as {@code barista serve} parses them. Close it to stop server and engine.
 */
public final class RealServer implements AutoCloseable {
  public static final ObjectMapper JSON = new ObjectMapper();

  /** Small limits keep the CPU KV cache and the batches small; arguments given to start replace these. */
  private static final List<String> DEFAULTS = List.of("--host", "127.0.0.1", "--port", "0", "--device", "cpu",
      "--max-model-len", "512", "--max-num-seqs", "32", "--disable-log-stats",
      "--disable-log-requests", "--shutdown-timeout", "1");

  public final ServeOptions options;
  public final Server server;
  private final ServedModelLoader.Loaded loaded;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private RealServer(ServeOptions options) throws Exception {
    this.options = options;
    this.loaded = new EngineModelLoader().load(options);
    try {
      this.server = Server.start(options, loaded.engine(), loaded.model());
    } catch (Exception | Error e) {
      closeEngine(loaded);
      throw e;
    }
  }

  /** Serves the tiny model with {@code args} added to the defaults (e.g. "--reasoning-parser", "deepseek_r1"). */
  public static RealServer start(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--model", TestModels.tiny().toString()));
    List<String> given = List.of(args);
    for (int i = 0; i < DEFAULTS.size(); i++) { // a default the caller gives again is the caller's
      boolean hasValue = i + 1 < DEFAULTS.size() && !DEFAULTS.get(i + 1).startsWith("--");
      if (!given.contains(DEFAULTS.get(i))) {
        all.add(DEFAULTS.get(i));
        if (hasValue) all.add(DEFAULTS.get(i + 1));
      }
      if (hasValue) i++;
    }
    all.addAll(given);
    return new RealServer(ServeOptions.parse(all.toArray(String[]::new)));
  }

  /** What the server submits to: a {@link barista.scheduler.DataParallelEngine} with --data-parallel-size above 1. */
  public barista.scheduler.EngineClient engine() {
    return loaded.engine();
  }

  public int port() {
    return server.port();
  }

  /** The OpenAI base URL clients are given: http://127.0.0.1:PORT/v1. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port() + "/v1";
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port() + path);
  }

  public HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
    return client.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return client.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** POSTs and returns the JSON body, failing unless the status is 200. */
  public JsonNode postOk(String path, String json) throws IOException, InterruptedException {
    HttpResponse<String> response = post(path, json);
    if (response.statusCode() != 200) {
      throw new AssertionError("POST " + path + " " + json + " -> " + response.statusCode() + " " + response.body());
    }
    return JSON.readTree(response.body());
  }

  /** POSTs a streaming request and returns the JSON of each "data:" event, failing unless the status is 200. */
  public List<JsonNode> postStream(String path, String json) throws IOException, InterruptedException {
    HttpResponse<String> response = post(path, json);
    if (response.statusCode() != 200) {
      throw new AssertionError("POST " + path + " " + json + " -> " + response.statusCode() + " " + response.body());
    }
    return events(response.body());
  }

  /** A JSON object from alternating keys and values (maps, lists, strings, numbers, booleans). */
  public static String body(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    try {
      return JSON.writeValueAsString(map);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One user message, as chat requests carry it. */
  public static List<Map<String, String>> userSays(String content) {
    return List.of(Map.of("role", "user", "content", content));
  }

  /** The JSON of each "data:" event of an event stream, [DONE] excluded (it must be last). */
  public static List<JsonNode> events(String body) throws IOException {
    List<String> data = Stream.of(body.split("\n\n")).filter(e -> !e.isBlank()).map(e -> {
      if (!e.startsWith("data: ")) throw new AssertionError("not an SSE data event: " + e);
      return e.substring("data: ".length());
    }).toList();
    if (data.isEmpty() || !data.get(data.size() - 1).equals("[DONE]")) {
      throw new AssertionError("stream does not end with [DONE]: " + body);
    }
    List<JsonNode> events = new ArrayList<>();
    for (String d : data.subList(0, data.size() - 1)) events.add(JSON.readTree(d));
    return events;
  }

  /** Stops the server (running requests get --shutdown-timeout), then the engine thread and its native memory. */
  @Override
  public void close() {
    try {
      server.close();
    } finally {
      closeEngine(loaded);
    }
  }

  private static void closeEngine(ServedModelLoader.Loaded loaded) {
    try {
      loaded.resources().close();
    } catch (Exception e) {
      throw new IllegalStateException("closing the engine failed", e);
    }
  }
}
