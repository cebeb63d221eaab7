package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.config.ServeOptions;
import barista.scheduler.GenerationRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** serve's startup warm-up: what it sends, that clients never see it, and that 0 turns it off. */
class StartupWarmupTest {
  private static final String[] BASE = {"--host", "127.0.0.1", "--port", "0", "--disable-log-stats",
      "--shutdown-timeout", "1", "--api-key", "k3y"};

  @Test
  void requestsGoThroughTheWholePathBeforeTheServerIsUpAndLeaveNoTrace() throws Exception {
    try (FakeEngine engine = new FakeEngine()) {
      Server server = startWarmingUp(engine, "60");
      try {
        // Every round ran to its end before start returned (60 s is more than they need), each request answered
        // past the API key: the engine saw them all, chat's templated prompts and completions' plain ones.
        List<GenerationRequest> seen = new ArrayList<>(engine.arrivals);
        // the last round: the guide's burst, 32 sampled chats at once (--max-num-seqs is 256 here)
        int mixed = StartupWarmup.ROUNDS - 1;
        assertEquals(mixed * StartupWarmup.CONCURRENCY + StartupWarmup.WIDE, seen.size());
        long chat = seen.stream().filter(r -> r.requestId().startsWith("chatcmpl-")).count();
        long completions = seen.stream().filter(r -> r.requestId().startsWith("cmpl-")).count();
        assertEquals(List.of(mixed * 6L + StartupWarmup.WIDE, mixed * 2L), List.of(chat, completions));
        assertTrue(seen.stream().filter(r -> r.params().temperature() > 0).count() >= StartupWarmup.WIDE,
            "the wide round samples");
        assertTrue(seen.stream().anyMatch(r -> r.params().temperature() > 0), "a sampled request");
        assertTrue(seen.stream().anyMatch(r -> r.params().temperature() == 0), "a greedy request");
        assertEquals(0, server.connections().openConnections(), "the warm-up's connections are closed");
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + "/metrics")).header("Authorization", "Bearer k3y")
            .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertFalse(metrics.body().contains("/v1/chat/completions"), "warm-up responses counted");
        assertFalse(metrics.body().contains("/v1/completions"), "warm-up responses counted");
        assertTrue(metrics.body().contains("vllm:generation_tokens_total{model_name=\"fake-model\"} 0.0"),
            "warm-up tokens counted");
      } finally {
        server.close();
      }
    }
  }

  /** A server that runs fewer sequences at once gets a last round no wider than it. */
  @Test
  void theWideRoundIsNoWiderThanMaxNumSeqs() throws Exception {
    try (FakeEngine engine = new FakeEngine()) {
      List<String> args = new ArrayList<>(List.of(BASE));
      args.addAll(List.of("--warmup-seconds", "60", "--max-num-seqs", "5"));
      Server.start(ServeOptions.parse(args.toArray(String[]::new)), engine,
          new FakeModel(List.of("fake-model"), TestServer.MAX_MODEL_LEN), null, true).close();
      assertEquals((StartupWarmup.ROUNDS - 1) * StartupWarmup.CONCURRENCY + 5, engine.arrivals.size());
    }
  }

  @Test
  void zeroSecondsSendsNothing() throws Exception {
    try (FakeEngine engine = new FakeEngine()) {
      startWarmingUp(engine, "0").close();
      assertTrue(engine.arrivals.isEmpty());
    }
  }

  /** serve's start (warm-up asked for) with --warmup-seconds {@code seconds}. */
  private static Server startWarmingUp(FakeEngine engine, String seconds) throws InterruptedException {
    List<String> args = new ArrayList<>(List.of(BASE));
    args.addAll(List.of("--warmup-seconds", seconds));
    return Server.start(ServeOptions.parse(args.toArray(String[]::new)), engine,
        new FakeModel(List.of("fake-model"), TestServer.MAX_MODEL_LEN), null, true);
  }

  @Test
  void requestsMixChatAndCompletionsStreamedOrNotGreedyOrSampled() {
    List<HttpRequest> round = new ArrayList<>();
    for (int i = 0; i < StartupWarmup.CONCURRENCY; i++) round.add(StartupWarmup.request(1, "m", null, 0, i));
    assertTrue(round.stream().anyMatch(r -> r.uri().getPath().equals("/v1/chat/completions")));
    assertTrue(round.stream().anyMatch(r -> r.uri().getPath().equals("/v1/completions")));
    assertTrue(round.stream().noneMatch(r -> r.headers().firstValue("Authorization").isPresent()));
    assertEquals("Bearer s", StartupWarmup.request(1, "m", "s", 0, 0).headers().firstValue("Authorization").get());
  }
}
