package barista.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.config.ServeOptions;
import barista.engine.TestModels;
import barista.server.EngineModelLoader;
import barista.server.ServedModelLoader;
import barista.server.Server;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny model placed in a Hugging Face cache in vLLM's layout and served by its repo id: through --download-dir
 * with refs/main, and as its own process through $HF_HUB_CACHE without refs/main (a cache copied by hand).
 */
class HubCacheServeTest {
  private static final String REPO = "barista-test/Tiny-Chat";
  private static final String COMMIT = "ad9f0ae0864d7fbcd1cd905e3c6c5b069cc8b562";
  private static final Pattern SERVING = Pattern.compile("Serving .* on http://127\\.0\\.0\\.1:(\\d+)");

  /** Copies the tiny checkpoint to HUB/models--ORG--NAME/snapshots/COMMIT, with refs/main when {@code withRef}. */
  private static void placeTinyModel(Path hub, boolean withRef) throws IOException {
    Path entry = hub.resolve("models--" + REPO.replace("/", "--"));
    Path snapshot = Files.createDirectories(entry.resolve("snapshots").resolve(COMMIT));
    try (Stream<Path> files = Files.list(TestModels.tiny())) {
      for (Path file : files.toList()) Files.copy(file, snapshot.resolve(file.getFileName()));
    }
    if (withRef) Files.writeString(Files.createDirectories(entry.resolve("refs")).resolve("main"), COMMIT);
  }

  @Test
  @Timeout(120)
  void servesARepoIdFromTheDownloadDir(@TempDir Path tmp) throws Exception {
    Path hub = tmp.resolve("cache");
    placeTinyModel(hub, true);
    ServeOptions options = ServeOptions.parse(REPO, "--download-dir", hub.toString(), "--host", "127.0.0.1",
        "--port", "0", "--device", "cpu", "--max-model-len", "256", "--disable-log-stats", "--shutdown-timeout", "1");
    ServedModelLoader.Loaded loaded = new EngineModelLoader().load(options);
    try {
      Server server = Server.start(options, loaded.engine(), loaded.model());
      try {
        assertServes(server.port());
      } finally {
        server.close();
      }
    } finally {
      loaded.resources().close();
    }
  }

  @Test
  @Timeout(120)
  void servesARepoIdFromHfHubCacheWithoutRefsMain(@TempDir Path tmp) throws Exception {
    Path hub = tmp.resolve("hub");
    placeTinyModel(hub, false);
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-Duser.home=" + tmp, "-cp", System.getProperty("surefire.test.class.path",
            System.getProperty("java.class.path")), "barista.server.Main", "serve", REPO, "--host", "127.0.0.1",
        "--port", "0", "--device", "cpu", "--max-model-len", "256", "--disable-log-stats"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().remove("HF_HOME");
    builder.environment().put("HF_HUB_CACHE", hub.toString());
    Process process = builder.start();
    try {
      BufferedReader stderr = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
      List<String> log = new ArrayList<>();
      int port = -1;
      for (String line; (line = stderr.readLine()) != null && !line.contains("Application startup complete."); ) {
        log.add(line);
        Matcher serving = SERVING.matcher(line);
        if (serving.find()) port = Integer.parseInt(serving.group(1));
      }
      assertTrue(port > 0, "did not start: " + log);
      assertServes(port);
      process.toHandle().destroy();
      assertTrue(process.waitFor(60, TimeUnit.SECONDS));
    } finally {
      process.destroyForcibly();
    }
  }

  /** /v1/models names the repo id, and a completion runs. */
  private static void assertServes(int port) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String models = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertEquals(REPO, RealServer.JSON.readTree(models).get("data").get(0).get("id").asText(), models);
    HttpResponse<String> completion = client.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/v1/completions")).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + REPO + "\",\"prompt\":\"hi\",\"max_tokens\":3,"
            + "\"temperature\":0}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, completion.statusCode(), completion.body());
    assertEquals(3, RealServer.JSON.readTree(completion.body()).get("usage").get("completion_tokens").asInt());
  }
}
