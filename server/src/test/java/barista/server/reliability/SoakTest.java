package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.scheduler.EngineStatus;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Many mixed requests at high concurrency on the real engine, a tenth of them hanging up at random points. Pass:
 * no 5xx, no request hung, every KV block free at the end, and the heap after a full GC within 10% of the start.
 * 300 requests by default; {@code -Psoak} (scripts/soak.sh) runs 5,000. Sizes: -Dsoak.requests, -Dsoak.concurrency.
 */
class SoakTest {
  private static final int REQUESTS = Integer.getInteger("soak.requests", 300);
  private static final int CONCURRENCY = Integer.getInteger("soak.concurrency", 64);
  private static final int WARM_UP = 500;
  private static final Duration LIMIT = Duration.ofMinutes(15);
  private static final Duration HUNG = Duration.ofSeconds(60);

  private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();

  @Test
  void mixedTrafficWithDisconnectsLeavesNoErrorNoHangNoLeak() throws Exception {
    try (TinyServer s = new TinyServer()) {
      run(s, WARM_UP, 1); // JIT, connection pools, Netty recyclers, the prefix cache: what fills once
      outcomes.clear();
      long heapBefore = heapAfterFullGc();
      long start = System.nanoTime();
      run(s, REQUESTS, 2);
      double seconds = (System.nanoTime() - start) / 1e9;
      TinyServer.await("every request has left the engine", Duration.ofSeconds(30), s::idle);
      EngineStatus engine = s.engineStatus();
      long heapAfter = heapAfterFullGc();

      System.out.printf("soak: %d requests at concurrency %d in %.1f s (%.0f req/s); outcomes %s; KV blocks free "
          + "%d/%d; heap after full GC %.1f MiB -> %.1f MiB (%+.1f%%)%n", REQUESTS, CONCURRENCY, seconds,
          REQUESTS / seconds, new java.util.TreeMap<>(outcomes), engine.freeBlocks(), engine.totalBlocks(),
          heapBefore / 1048576.0, heapAfter / 1048576.0, 100.0 * (heapAfter - heapBefore) / heapBefore);
      assertEquals(0, count("5xx"), "server errors");
      assertEquals(0, count("hung"), "hung requests");
      assertEquals(0, count("failed"), "requests that failed otherwise");
      assertEquals(REQUESTS, count("ok") + count("disconnected"), "every request ran");
      assertTrue(count("disconnected") > 0, "some clients hung up");
      assertEquals(engine.totalBlocks(), engine.freeBlocks(), "every KV block is free");
      assertTrue(heapAfter <= heapBefore * 1.10, "heap grew over 10%");
    }
  }

  private void run(TinyServer s, int requests, long seed) throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(CONCURRENCY);
    for (int c = 0; c < CONCURRENCY; c++) {
      clients.execute(() -> {
        for (int i; (i = next.getAndIncrement()) < requests; ) one(s, new SplittableRandom(seed * 1_000_003 + i));
      });
    }
    clients.shutdown();
    assertTrue(clients.awaitTermination(LIMIT.toSeconds(), TimeUnit.SECONDS), "the soak did not end in " + LIMIT);
  }

  /** One request: chat or completion, streamed or not, random sampling and length; 10% hang up. */
  private void one(TinyServer s, SplittableRandom random) {
    boolean chat = random.nextBoolean();
    boolean stream = random.nextBoolean();
    boolean leaves = random.nextInt(10) == 0;
    ObjectNode body = Json.object();
    if (chat) {
      body.putArray("messages").addObject().put("role", "user").put("content", "Soak " + random.nextInt(1000));
    } else {
      body.put("prompt", "Soak prompt " + random.nextInt(1000));
    }
    body.put("max_tokens", 1 + random.nextInt(48)).put("temperature", random.nextInt(4) * 0.4)
        .put("stream", stream).put("ignore_eos", leaves || random.nextBoolean());
    if (leaves) body.put("max_tokens", 16 + random.nextInt(48)); // long enough to leave mid-stream
    String path = chat ? "/v1/chat/completions" : "/v1/completions";
    try {
      if (leaves) {
        hangUp(s, path, body.toString(), stream ? random.nextInt(5) : 0);
      } else {
        HttpResponse<String> response = s.client.send(s.request(path, body.toString()).timeout(HUNG).build(),
            HttpResponse.BodyHandlers.ofString());
        boolean complete = stream
            ? response.body().endsWith("data: [DONE]\n\n") : response.body().contains("\"finish_reason\"");
        record(response.statusCode() >= 500 ? "5xx" : response.statusCode() == 200 && complete ? "ok" : "failed");
      }
    } catch (HttpTimeoutException | java.net.SocketTimeoutException e) {
      record("hung");
    } catch (IOException | RuntimeException e) {
      record("failed");
      System.out.println("soak: request failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Hangs up at a point: 0 before the response, 1 after the status line, 2.. after that many events (the last two
   * for streams only: a whole response comes at once).
   */
  private void hangUp(TinyServer s, String path, String json, int point) throws IOException {
    try (RawConnection client = new RawConnection(s.port())) {
      client.post(path, json);
      if (point == 1) client.readUntil("HTTP/1.1 ", 1);
      if (point > 1) client.readUntil("data: ", point - 1);
    }
    record("disconnected");
  }

  private void record(String outcome) {
    outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
  }

  private long count(String outcome) {
    LongAdder adder = outcomes.get(outcome);
    return adder == null ? 0 : adder.sum();
  }

  private static long heapAfterFullGc() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
