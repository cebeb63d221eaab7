package barista.server.dp;

import static barista.server.e2e.RealServer.body;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.config.ServeOptions;
import barista.engine.TestModels;
import barista.scheduler.DataParallelEngine;
import barista.server.EngineModelLoader;
import barista.server.e2e.RealServer;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Two CPU engines behind one port: work spreads over both, answers stay those of one engine, health covers both. */
class DataParallelServerTest {
  static final int REQUESTS = 40;

  static String request(int i) {
    return body("prompt", "Request " + i + ": " + "tell me more. ".repeat(1 + i % 3), "temperature", 0,
        "max_tokens", 8 + i % 8);
  }

  static String answer(RealServer server, int i) throws Exception {
    JsonNode choice = server.postOk("/v1/completions", request(i)).get("choices").get(0);
    return choice.get("finish_reason").asText() + ": " + choice.get("text").asText();
  }

  @Test
  void concurrentRequestsSpreadOverBothEnginesAndMatchOneEngine() throws Exception {
    List<String> alone = new ArrayList<>();
    try (RealServer single = RealServer.start()) {
      for (int i = 0; i < REQUESTS; i++) alone.add(answer(single, i));
    }
    try (RealServer server = RealServer.start("--data-parallel-size", "2")) {
      ExecutorService clients = Executors.newFixedThreadPool(REQUESTS);
      try {
        List<Callable<String>> calls = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
          int r = i;
          calls.add(() -> answer(server, r));
        }
        List<Future<String>> together = clients.invokeAll(calls);
        for (int i = 0; i < REQUESTS; i++) assertEquals(alone.get(i), together.get(i).get(), "request " + i);
      } finally {
        clients.shutdownNow();
      }
      long[] submitted = ((DataParallelEngine) server.engine()).submittedCounts();
      assertEquals(REQUESTS, submitted[0] + submitted[1]);
      assertTrue(submitted[0] > 0 && submitted[1] > 0, "both engines got work: " + submitted[0] + ", " + submitted[1]);
    }
  }

  @Test
  void healthIsUnavailableOnceOneEngineDies() throws Exception {
    try (RealServer server = RealServer.start("-dp", "2")) {
      assertEquals(200, server.get("/health").statusCode());
      DataParallelEngine engines = (DataParallelEngine) server.engine();
      engines.engines().get(1).close(); // stops that engine's thread, as a crash of its loop would
      assertFalse(engines.status().alive());
      assertEquals(503, server.get("/health").statusCode());
    }
  }

  @Test
  void moreEnginesThanGpusIsRefusedWithBothNumbers() {
    ServeOptions options = ServeOptions.parse("--model", TestModels.tiny().toString(), "--device", "cuda", "-dp", "2");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new EngineModelLoader().load(options));
    assertEquals("--data-parallel-size 2 needs 2 GPUs, but 0 CUDA device(s) are visible", e.getMessage());
  }
}
