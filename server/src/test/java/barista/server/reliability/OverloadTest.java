package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** --max-waiting-requests and --request-timeout on the real engine. */
class OverloadTest {
  private static final String COMPLETION = "{\"prompt\":\"flood\",\"max_tokens\":64,\"ignore_eos\":true}";

  @Test
  void aFloodGets503sWithRetryAfterAndABodyNeverAHangThenNormalService() throws Exception {
    try (TinyServer s = new TinyServer("--max-num-seqs", "2", "--max-waiting-requests", "2")) {
      List<CompletableFuture<HttpResponse<String>>> flood = new ArrayList<>();
      for (int i = 0; i < 48; i++) {
        flood.add(s.client.sendAsync(s.request("/v1/completions", COMPLETION).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      CompletableFuture.allOf(flood.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      int served = 0;
      int refused = 0;
      for (CompletableFuture<HttpResponse<String>> f : flood) {
        HttpResponse<String> response = f.get();
        JsonNode body = TinyServer.json(response);
        if (response.statusCode() == 503) {
          refused++;
          assertEquals("1", response.headers().firstValue("retry-after").orElseThrow());
          assertEquals("ServiceUnavailableError", body.get("error").get("type").asText());
          assertEquals(503, body.get("error").get("code").asInt());
          assertTrue(body.get("error").get("message").asText().contains("overloaded"), response.body());
        } else {
          served++;
          assertEquals(200, response.statusCode(), response.body());
          assertEquals("length", body.get("choices").get(0).get("finish_reason").asText());
          assertEquals(64, body.get("usage").get("completion_tokens").asInt());
        }
      }
      assertTrue(refused > 0, "a full waiting queue refuses");
      // The first two arrivals always find the queue empty; how many more fit depends on how soon the engine thread
      // moves them from waiting to running, which a loaded 2-core machine may not do before the flood has arrived.
      assertTrue(served >= 2, "the waiting queue's 2 places are served, got " + served);
      TinyServer.await("the engine is idle", Duration.ofSeconds(30), s::idle);
      assertEquals(200, s.post("/v1/completions", COMPLETION).statusCode());
    }
  }

  @Test
  void refusedBatchesNeverCauseA503ForAOnePromptClient() throws Exception {
    try (TinyServer s = new TinyServer("--max-num-seqs", "4", "--max-waiting-requests", "8")) {
      StringBuilder prompts = new StringBuilder("[");
      for (int i = 0; i < 13; i++) prompts.append(i == 0 ? "" : ",").append("\"grief ").append(i).append('"');
      String batch = "{\"prompt\":" + prompts + "],\"max_tokens\":4}";
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicInteger griefs = new java.util.concurrent.atomic.AtomicInteger();
      List<CompletableFuture<Void>> griefers = new ArrayList<>();
      for (int g = 0; g < 2; g++) {
        griefers.add(CompletableFuture.runAsync(() -> {
          while (!stop.get()) {
            try {
              HttpResponse<String> refused = s.post("/v1/completions", batch);
              assertEquals(503, refused.statusCode(), refused.body());
              griefs.incrementAndGet();
            } catch (java.io.IOException | InterruptedException e) {
              throw new IllegalStateException(e);
            }
          }
        }));
      }
      try {
        for (int i = 0; i < 30; i++) {
          HttpResponse<String> victim = s.post("/v1/completions", "{\"prompt\":\"victim\",\"max_tokens\":4}");
          assertEquals(200, victim.statusCode(), "a one-prompt client's request " + i + ": " + victim.body());
        }
      } finally {
        stop.set(true);
      }
      CompletableFuture.allOf(griefers.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      assertTrue(griefs.get() >= 10, "the griefers ran alongside: " + griefs.get() + " refused batches");
    }
  }

  @Test
  void requestTimeoutAbortsAndFreesTheBlocks() throws Exception {
    try (TinyServer s = new TinyServer("--request-timeout", "0.3")) {
      String slow = "{\"prompt\":\"slow\",\"max_tokens\":2000,\"ignore_eos\":true";
      HttpResponse<String> whole = s.post("/v1/completions", slow + ",\"n\":4}");
      assertEquals(200, whole.statusCode(), whole.body());
      JsonNode body = TinyServer.json(whole);
      for (JsonNode choice : body.get("choices")) assertEquals("abort", choice.get("finish_reason").asText());
      assertTrue(body.get("usage").get("completion_tokens").asInt() < 4 * 2000);

      SseStream stream = new SseStream(s.client, s.uri("/v1/completions"), slow + ",\"stream\":true}");
      assertEquals("abort", SseStream.finishReason(stream.awaitEnd(Duration.ofSeconds(30))));
      TinyServer.await("every KV block is free", Duration.ofSeconds(10), s::idle);
    }
  }
}
