package barista.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** While the server drains, a request on a connection opened before the shutdown is refused, not started. */
class DrainTest {

  @Test
  @Timeout(60)
  void keepAliveRequestsDuringTheDrainGet503() throws Exception {
    try (TestServer ts = new TestServer(); // --shutdown-timeout 1
        RawHttp keepAlive = new RawHttp(ts.server.port())) {
      String body = "{\"model\":\"fake-model\",\"prompt\":\"hi\",\"max_tokens\":2}";
      keepAlive.send(RawHttp.post("HTTP/1.1", "/v1/completions", body, ""));
      assertTrue(keepAlive.readUntil("\"finish_reason\"").contains("200 OK"), "the connection works first");

      // a running request keeps the drain busy until it is aborted
      CompletableFuture<HttpResponse<String>> running = ts.stalledStream(1);

      Thread closer = new Thread(ts.server::close, "closer");
      closer.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!ts.server.draining()) { // a condition with a deadline, not a pause
        assertTrue(System.nanoTime() < deadline, "the server never started draining");
        Thread.onSpinWait();
      }
      keepAlive.send(RawHttp.post("HTTP/1.1", "/v1/completions", body, ""));
      String refused = keepAlive.readUntil("}}");
      assertTrue(refused.startsWith("HTTP/1.1 503"), refused);
      assertTrue(refused.contains("retry-after: 1") || refused.contains("Retry-After: 1"), refused);
      assertTrue(refused.contains("shutting down"), refused);
      closer.join(30_000);
      assertTrue(running.get(30, TimeUnit.SECONDS).body().contains("\"finish_reason\":\"abort\""),
          "the running request ends with abort after the grace period");
    }
  }
}
