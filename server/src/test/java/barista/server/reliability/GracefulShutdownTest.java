package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.TestModels;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code barista serve} in a child JVM, stopped with SIGTERM while two streams run: it stops
 * accepting at once, lets the short stream finish, aborts the long one after --shutdown-timeout, and exits 0.
 */
class GracefulShutdownTest {
  private static final Pattern SERVING = Pattern.compile("Serving .* on http://127\\.0\\.0\\.1:(\\d+)");

  @Test
  void sigtermDrainsThenAbortsTheRestAndExitsZero() throws Exception {
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Dai.djl.offline=true", "barista.server.Main", "serve",
        "--model", TestModels.tiny().toString(), "--device", "cpu", "--host", "127.0.0.1", "--port", "0",
        "--kv-cache-space", "0.005", "--disable-log-stats", "--shutdown-timeout", "2")
        .redirectErrorStream(true).start();
    StringBuffer log = new StringBuffer();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = lines.readLine()) != null; ) {
          log.append(line).append('\n');
          Matcher m = SERVING.matcher(line);
          if (m.find()) port.complete(Integer.parseInt(m.group(1)));
        }
      } catch (IOException e) {
        log.append(e).append('\n');
      }
      port.completeExceptionally(new AssertionError("the server exited before serving:\n" + log));
    }, "child-log");
    pump.setDaemon(true);
    pump.start();
    try {
      int p = port.get(90, TimeUnit.SECONDS);
      URI chat = URI.create("http://127.0.0.1:" + p + "/v1/chat/completions");
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      SseStream shortOne = new SseStream(client, chat, body(100));
      SseStream longOne = new SseStream(client, chat, body(4000));
      shortOne.awaitFirstToken();
      longOne.awaitFirstToken();

      child.toHandle().destroy(); // SIGTERM; Process.destroy would also close our end of its output pipe
      TinyServer.await("new connections are refused", Duration.ofSeconds(10), () -> refuses(p));
      assertTrue(child.isAlive(), "the server must drain before exiting\n" + log);

      assertEquals("length", SseStream.finishReason(shortOne.awaitEnd(Duration.ofSeconds(30))), log::toString);
      assertEquals("abort", SseStream.finishReason(longOne.awaitEnd(Duration.ofSeconds(30))), log::toString);
      assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the server did not exit\n" + log);
      assertEquals(0, child.exitValue(), log::toString);
      assertTrue(log.toString().contains("Aborting 1 requests still running after 2.0 s"), log::toString);
    } finally {
      child.destroyForcibly();
    }
  }

  private static String body(int maxTokens) {
    return "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell a long story\"}],\"stream\":true,\"ignore_eos\":true,"
        + "\"max_tokens\":" + maxTokens + "}";
  }

  private static boolean refuses(int port) {
    try {
      new Socket("127.0.0.1", port).close();
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
