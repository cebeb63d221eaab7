package barista.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.config.ServeOptions;
import barista.engine.TestModels;
import barista.server.EngineModelLoader;
import barista.server.Main;
import barista.server.ServedModelLoader;
import barista.server.Server;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The bench against the real server on the tiny model on CPU, as {@code barista serve} wires it. */
class BenchOnTinyModelTest {
  private static ServedModelLoader.Loaded loaded;
  private static Server server;

  @TempDir
  Path dir;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeAll
  static void startServer() throws Exception {
    ServeOptions options = ServeOptions.parse("--model", TestModels.tiny().toString(), "--device", "cpu",
        "--host", "127.0.0.1", "--port", "0", "--max-model-len", "256", "--kv-cache-space", "0.05",
        "--disable-log-stats", "--disable-log-requests", "--shutdown-timeout", "1");
    loaded = new EngineModelLoader().load(options);
    server = Server.start(options, loaded.engine(), loaded.model());
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) server.close();
    if (loaded != null) loaded.resources().close();
  }

  /** Runs {@code barista bench} against the server with --json and returns the parsed results. */
  private JsonNode bench(int expectedExitCode, String... args) throws Exception {
    Path json = dir.resolve("results.json");
    List<String> all = new ArrayList<>(List.of("bench", "--base-url", "http://127.0.0.1:" + server.port(),
        "--json", json.toString(), "--timeout", "120"));
    all.addAll(List.of(args));
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    assertEquals(expectedExitCode, cli.execute(all.toArray(String[]::new)), out + "\n" + err);
    return new ObjectMapper().readTree(json.toFile());
  }

  private static void assertOrderedPercentiles(JsonNode r, String name) {
    double median = r.get("median_" + name + "_ms").asDouble();
    double p90 = r.get("p90_" + name + "_ms").asDouble();
    double p99 = r.get("p99_" + name + "_ms").asDouble();
    assertTrue(r.get("mean_" + name + "_ms").asDouble() > 0, name + " mean");
    assertTrue(0 < median && median <= p90 && p90 <= p99, name + ": " + median + " " + p90 + " " + p99);
  }

  /** Structured output under load: every request carries the schema, and the server holds each output to it. */
  @Test
  void jsonSchemaRequestsComplete() throws Exception {
    Path schema = dir.resolve("schema.json");
    java.nio.file.Files.writeString(schema, "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"},"
        + "\"n\":{\"type\":\"integer\"}},\"required\":[\"ok\",\"n\"],\"additionalProperties\":false}");
    JsonNode r = bench(0, "--num-prompts", "6", "--concurrency", "3", "--input-len", "8", "--output-len", "40",
        "--json-schema-path", schema.toString());
    assertEquals(6, r.get("completed").asInt(), out.toString());
    assertEquals(schema.toString(), r.get("json_schema_path").asText());
    // The schema reaches the server: one it refuses (a keyword outside the supported subset) fails every request.
    java.nio.file.Files.writeString(schema, "{\"type\":\"integer\",\"multipleOf\":3}");
    JsonNode refused = bench(1, "--num-prompts", "2", "--input-len", "8", "--output-len", "8",
        "--json-schema-path", schema.toString());
    assertEquals(2, refused.get("failed").asInt());
    assertTrue(out.toString().contains("multipleOf"), out.toString());
  }

  @Test
  void randomPromptsStreamedWithIgnoreEos() throws Exception {
    JsonNode r = bench(0, "--num-prompts", "8", "--concurrency", "4", "--input-len", "16", "--output-len", "8",
        "--ignore-eos", "--seed", "3");
    assertEquals(8, r.get("completed").asInt());
    assertEquals(0, r.get("failed").asInt());
    assertEquals(8 * 16, r.get("total_input_tokens").asInt());
    assertEquals(8 * 8, r.get("total_output_tokens").asInt());
    int peak = r.get("peak_concurrency").asInt();
    assertTrue(peak >= 1 && peak <= 4, "peak " + peak);
    assertEquals("completions", r.get("endpoint").asText());
    assertEquals(server.port(), java.net.URI.create(r.get("base_url").asText()).getPort());
    assertEquals(loaded.model().servedNames().get(0), r.get("model").asText(), "the first of /v1/models");
    for (String name : List.of("ttft", "tpot", "itl", "e2el")) assertOrderedPercentiles(r, name);
    assertTrue(r.get("p99_e2el_ms").asDouble() >= r.get("median_ttft_ms").asDouble());
    double duration = r.get("duration").asDouble();
    assertEquals(8 / duration, r.get("request_throughput").asDouble(), 1e-6);
    assertEquals(64 / duration, r.get("output_throughput").asDouble(), 1e-6);
    assertTrue(out.toString().matches("(?s).*Successful requests:\\s+8\\s.*"), out.toString());
    assertTrue(out.toString().contains("P99 ITL (ms):"), out.toString());
  }

  @Test
  void unstreamedRequestsCountTokensFromUsage() throws Exception {
    JsonNode r = bench(0, "--num-prompts", "4", "--concurrency", "2", "--input-len", "16", "--output-len", "8",
        "--ignore-eos", "--no-stream", "--request-rate", "50");
    assertEquals(4, r.get("completed").asInt());
    assertEquals(4 * 8, r.get("total_output_tokens").asInt());
    assertEquals(0, r.get("mean_ttft_ms").asDouble(), "no TTFT without streaming");
    assertOrderedPercentiles(r, "e2el");
  }

  @Test
  void seed32UsersPresetCompletes() throws Exception {
    JsonNode r = bench(0, "--preset", "seed-32-users", "--output-len", "8");
    assertEquals(32, r.get("completed").asInt());
    assertEquals(0, r.get("failed").asInt());
    assertEquals("chat", r.get("endpoint").asText());
    assertEquals(32, r.get("max_concurrency").asInt());
    assertTrue(r.get("total_output_tokens").asInt() >= 32 && r.get("total_output_tokens").asInt() <= 32 * 8,
        r.toString());
    assertTrue(out.toString().contains("seed-32-users: 32/32 answers in "), out.toString());
    assertEquals(0.7, r.get("temperature").asDouble(), "the guide's client samples");
    assertTrue(out.toString().contains("temperature 0.7, the server's top_p"), out.toString());
  }

  @Test
  void seed32UsersPresetRunsGreedyWithTemperatureZero() throws Exception {
    JsonNode r = bench(0, "--preset", "seed-32-users", "--output-len", "4", "--temperature", "0");
    assertEquals(32, r.get("completed").asInt());
    assertEquals(0.0, r.get("temperature").asDouble());
    assertTrue(out.toString().contains(", greedy"), out.toString());
  }
}
