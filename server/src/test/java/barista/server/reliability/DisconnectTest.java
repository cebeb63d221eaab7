package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Clients that hang up: their requests are aborted and every KV block they held is free again (seen through
 * /metrics), while other requests run on unchanged.
 */
class DisconnectTest {
  private static final String LONG_STREAM =
      "{\"prompt\":\"Once upon a time\",\"max_tokens\":4000,\"ignore_eos\":true,\"stream\":true}";

  @Test
  void hangingUpMidStreamFreesItsBlocks() throws Exception {
    try (TinyServer s = new TinyServer()) {
      try (RawConnection client = new RawConnection(s.port())) {
        client.post("/v1/completions", LONG_STREAM).readUntil("\"text\":", 3);
        assertTrue(s.metric("vllm:kv_cache_usage_perc") > 0, "the stream holds blocks");
      }
      TinyServer.await("every KV block is free", Duration.ofSeconds(10), s::idle);
    }
  }

  @Test
  void hangingUpBeforeTheFirstTokenLeavesTheQueue() throws Exception {
    try (TinyServer s = new TinyServer("--max-num-seqs", "1")) {
      try (RawConnection blocker = new RawConnection(s.port())) {
        blocker.post("/v1/completions", LONG_STREAM).readUntil("\"text\":", 1);
        try (RawConnection waiting = new RawConnection(s.port())) {
          waiting.post("/v1/completions", LONG_STREAM);
          TinyServer.await("the second request waits", Duration.ofSeconds(10),
              () -> metric(s, "vllm:num_requests_waiting") == 1);
        }
        TinyServer.await("the waiting request is gone", Duration.ofSeconds(10),
            () -> metric(s, "vllm:num_requests_waiting") == 0);
        assertEquals(1, s.metric("vllm:num_requests_running"), "the blocker runs on");
      }
      TinyServer.await("every KV block is free", Duration.ofSeconds(10), s::idle);
    }
  }

  @Test
  void otherRequestsAreUnaffected() throws Exception {
    try (TinyServer s = new TinyServer()) {
      String witness = "{\"messages\":[{\"role\":\"user\",\"content\":\"Count to ten\"}],\"temperature\":0,"
          + "\"max_tokens\":300,\"ignore_eos\":true}";
      String alone = TinyServer.json(s.post("/v1/chat/completions", witness)).get("choices").toString();

      CompletableFuture<HttpResponse<String>> crowded = s.client.sendAsync(
          s.request("/v1/chat/completions", witness).build(), HttpResponse.BodyHandlers.ofString());
      Random random = new Random(7);
      List<RawConnection> leaving = new ArrayList<>();
      for (int i = 0; i < 16; i++) leaving.add(new RawConnection(s.port()).post("/v1/completions", LONG_STREAM));
      for (RawConnection client : leaving) {
        int events = random.nextInt(6); // 0: before the first event
        if (events > 0) client.readUntil("data: ", events);
        client.close();
      }
      HttpResponse<String> response = crowded.get(60, TimeUnit.SECONDS);
      assertEquals(200, response.statusCode(), response.body());
      assertEquals(alone, TinyServer.json(response).get("choices").toString());
      TinyServer.await("every KV block is free", Duration.ofSeconds(10), s::idle);
    }
  }

  private static double metric(TinyServer s, String name) {
    try {
      return s.metric(name);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
