package barista.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client against a scripted HTTP server: a stream that stalls must time out, an HTTP error must fail. */
class BenchClientTest {
  private final CountDownLatch release = new CountDownLatch(1);
  private final ExecutorService handlers = Executors.newCachedThreadPool();
  private HttpServer server;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(handlers);
    server.createContext("/v1/completions", this::stallAfterOneChunk);
    server.createContext("/v1/chat/completions", exchange -> respond(exchange, 400,
        "{\"error\":{\"message\":\"max_tokens is too large\",\"type\":\"BadRequestError\",\"code\":400}}"));
    server.start();
  }

  @AfterEach
  void stop() {
    release.countDown();
    server.stop(0);
    handlers.shutdownNow();
  }

  private void stallAfterOneChunk(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.sendResponseHeaders(200, 0);
    OutputStream body = exchange.getResponseBody();
    body.write("data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n".getBytes(StandardCharsets.UTF_8));
    body.flush();
    try {
      release.await(); // until the test ends: the client must give up by itself
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    exchange.close();
  }

  private static void respond(HttpExchange exchange, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  private BenchClient client(boolean chat, Duration timeout) {
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    return new BenchClient(new BenchClient.Settings(base, "m", chat, true, false, 0, timeout, null));
  }

  @Test
  void aStalledStreamTimesOutAndTheRunEnds() throws InterruptedException {
    try (BenchClient client = client(false, Duration.ofMillis(300))) {
      List<BenchPrompt> prompts = Prompts.random(3, 4, 4, false, 0);
      LoadDriver.Run run = LoadDriver.run(prompts, client::send, 2, new PoissonArrivals(Double.POSITIVE_INFINITY, 0));
      assertEquals(3, run.results().size());
      for (RequestResult r : run.results()) {
        assertFalse(r.success());
        assertEquals("timed out after 0.3 s", r.error());
        assertTrue(r.latency() >= 0.3, "latency " + r.latency());
      }
      assertTrue(run.peakInFlight() <= 2, "peak " + run.peakInFlight());
    }
  }

  @Test
  void anHttpErrorFailsWithTheServersMessage() throws InterruptedException {
    try (BenchClient client = client(true, Duration.ofSeconds(10))) {
      RequestResult r = client.send(BenchPrompt.text("hi", 4));
      assertFalse(r.success());
      assertEquals("HTTP 400: max_tokens is too large", r.error());
    }
  }
}
