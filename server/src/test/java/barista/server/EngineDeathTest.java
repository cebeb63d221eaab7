package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An engine whose loop died (a CUDA error) serves nothing again: the server closes itself, so `serve` exits with 1
 * and systemd or Kubernetes restarts it, where it would otherwise answer 503 forever with nobody told.
 */
class EngineDeathTest {

  @Test
  @Timeout(60)
  void aDeadEngineClosesTheServerAndSaysWhy() throws Exception {
    try (TestServer ts = new TestServer()) {
      int port = ts.server.port();
      HttpResponse<String> ok = ts.post("/v1/completions", "{\"model\":\"fake-model\",\"prompt\":\"hi\",\"max_tokens\":2}");
      assertEquals(200, ok.statusCode(), ok.body());
      // a stream in flight when the engine dies: it gets its end, then the server goes
      CompletableFuture<HttpResponse<String>> running = ts.stalledStream(1);

      ts.engine.alive = false; // as a dead EngineCore reports
      IllegalStateException cause = new IllegalStateException("CUDA out of memory");
      ts.engine.death.complete(cause);
      ts.server.awaitClosed(); // by itself: nobody called close()
      assertSame(cause, ts.server.engineDeath());
      assertTrue(running.get(30, TimeUnit.SECONDS).body().contains("\"finish_reason\":\"abort\""),
          "the stream in flight ends with abort");
      assertThrows(IOException.class, () -> new java.net.Socket("127.0.0.1", port).close(),
          "the port is closed");
    }
  }

  @Test
  @Timeout(60)
  void aCleanCloseIsNoDeath() throws Exception {
    TestServer ts = new TestServer();
    ts.close();
    assertNull(ts.server.engineDeath());
    IllegalStateException late = new IllegalStateException("after the close");
    ts.engine.death.complete(late); // closes nothing twice; `serve` would still exit with 1
    assertSame(late, ts.server.engineDeath());
    ts.server.close();
  }
}
