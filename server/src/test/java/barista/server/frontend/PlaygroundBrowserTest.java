package barista.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import barista.server.e2e.RealServer;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The playground and the status page in a real headless Chromium (Debian's package; skipped where none is
 * installed), against the real server on the tiny model: streaming, stats, stop, text-only output, live charts.
 * Saves the screenshots README links (docs/images/).
 */
class PlaygroundBrowserTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String LAST_ANSWER = "document.querySelector('#conversation .message.assistant:last-child')";
  /** Markup the model is made to write: it must show as text, never become elements or run. */
  private static final String SCRIPT_TEXT = "<script>alert(1)</script><img src=x onerror=alert(2)>";

  @Test
  void playgroundStreamsStopsAndShowsOutputAsTextAndStatusChartsMove() throws Exception {
    Path chromium = Chromium.find();
    assumeTrue(chromium != null, "no chromium installed (Debian: apt-get install chromium)");
    try (RealServer server = RealServer.start("--max-model-len", "2048");
        Chromium browser = Chromium.launch(chromium)) {
      String base = "http://127.0.0.1:" + server.port();
      Chromium.Page page = browser.newPage(1280, 860);
      page.navigate(base + "/");
      page.waitFor("document.body.dataset.ready === 'true' && document.getElementById('model').options.length > 0",
          WAIT);
      assertEquals(server.options.model(), page.eval("document.getElementById('model').value").asText());
      // Nothing the page shows may become markup or run: alert is a trap.
      page.eval("window.alerts = []; window.alert = (m) => window.alerts.push(String(m)); true");

      streamsAnAnswerThatGrowsAndShowsStats(page);
      stopEndsTheRequestOnTheServer(page, server);
      modelOutputAndUserTextAreShownAsText(page);
      page.screenshot(docs().resolve("playground.png"));
      assertEquals(List.of(), page.problems(), "errors or refused loads in the playground");

      Chromium.Page status = browser.newPage(1280, 860);
      statusChartsFollowTheLoad(status, server, base);
      assertEquals(List.of(), status.problems(), "errors or refused loads in the status page");
    }
  }

  @Test
  void apiKeyIsAskedForSentAsBearerAndKeptInTheTabOnlyAndReasoningIsShownApart() throws Exception {
    Path chromium = Chromium.find();
    assumeTrue(chromium != null, "no chromium installed (Debian: apt-get install chromium)");
    try (RealServer server = RealServer.start("--api-key", "s3cret", "--reasoning-parser", "deepseek_r1");
        Chromium browser = Chromium.launch(chromium)) {
      String base = "http://127.0.0.1:" + server.port();
      Chromium.Page page = browser.newPage(1280, 860);
      page.navigate(base + "/");
      page.waitFor("!document.getElementById('key-form').hidden", WAIT);
      assertEquals(0, page.eval("document.getElementById('model').options.length").asInt());
      page.type("#api-key", "s3cret");
      page.click("#key-form button");
      page.waitFor("document.body.dataset.ready === 'true'", WAIT);
      assertTrue(page.eval("document.getElementById('key-form').hidden").asBoolean());
      page.set("#max-tokens", "5");
      page.type("#prompt", "hi");
      page.click("#send");
      page.waitFor(LAST_ANSWER + ".dataset.state === 'done'", WAIT);
      assertTrue(page.eval(LAST_ANSWER + ".querySelector('.stats').textContent").asText().contains("5 completion"));
      // The tiny model never closes the template's <think>: all it wrote is reasoning, shown apart and folded.
      JsonNode reasoning = page.eval("(() => { const d = " + LAST_ANSWER + ".querySelector('details.reasoning'); "
          + "return {hidden: d.hidden, open: d.open, text: d.querySelector('.reasoning-text').textContent}; })()");
      assertEquals(false, reasoning.get("hidden").asBoolean(), reasoning.toString());
      assertEquals(false, reasoning.get("open").asBoolean(), "reasoning stays folded once the answer is done");
      assertFalse(reasoning.get("text").asText().isEmpty(), reasoning.toString());
      page.click("#conversation .message.assistant:last-child details.reasoning summary");
      assertTrue(page.eval(LAST_ANSWER + ".querySelector('details.reasoning').open").asBoolean());
      assertEquals(0, page.eval("localStorage.length").asInt(), "the key must not outlive the tab");
      assertEquals("", page.eval("document.cookie").asText());
      // The 401 of the first /v1/models is the only error the page saw.
      assertEquals(1, page.problems().size(), page.problems().toString());
      assertTrue(page.problems().get(0).contains("401"), page.problems().toString());

      Chromium.Page other = browser.newPage(1280, 860);
      other.navigate(base + "/");
      other.waitFor("!document.getElementById('key-form').hidden", WAIT); // another tab does not have it
    }
  }

  private static void streamsAnAnswerThatGrowsAndShowsStats(Chromium.Page page) throws Exception {
    // Every change of the answer's text, as the stream delivers it.
    page.eval("window.answerLengths = []; new MutationObserver(() => { const a = " + LAST_ANSWER + "; "
        + "if (a) window.answerLengths.push(a.querySelector('.content').textContent.length); })"
        + ".observe(document.getElementById('conversation'), {subtree: true, childList: true, characterData: true});"
        + " true");
    page.set("#temperature", "0");
    page.set("#max-tokens", "40");
    page.set("#extra", "{\"ignore_eos\": true}");
    page.type("#prompt", "Hello there");
    page.click("#send");
    page.waitFor(LAST_ANSWER + ".dataset.state === 'done'", WAIT);
    List<Integer> lengths = new ArrayList<>();
    page.eval("window.answerLengths").forEach(n -> lengths.add(n.asInt()));
    assertTrue(lengths.stream().distinct().filter(n -> n > 0).count() >= 3,
        "the answer did not grow in steps while it streamed: " + lengths);
    for (int i = 1; i < lengths.size(); i++) assertTrue(lengths.get(i) >= lengths.get(i - 1), "shrank: " + lengths);
    String stats = page.eval(LAST_ANSWER + ".querySelector('.stats').textContent").asText();
    assertTrue(stats.matches("TTFT \\d+ ms · [\\d.]+ tokens/s · \\d+ prompt tokens · 40 completion tokens · "
        + "finish: length"), stats);
  }

  private static void stopEndsTheRequestOnTheServer(Chromium.Page page, RealServer server) throws Exception {
    page.set("#max-tokens", "1800");
    page.type("#prompt", "Tell me a long story");
    page.click("#send");
    // Mid-stream: once text arrives, the server counts the request as running.
    page.waitFor(LAST_ANSWER + ".dataset.state === 'streaming' && "
        + LAST_ANSWER + ".querySelector('.content').textContent.length > 0", WAIT);
    JsonNode before = page.eval("fetch('/status/data').then(r => r.json())");
    assertEquals(1, before.path("engine").path("running").asInt() + before.path("engine").path("waiting").asInt(),
        before.toString());
    page.click("#stop");
    page.waitFor(LAST_ANSWER + ".dataset.state === 'stopped'", WAIT);
    // The closed stream aborts the request: the engine frees it at its next step.
    JsonNode after = page.waitFor("fetch('/status/data').then(r => r.json()).then(s => s.engine.running === 0 "
        + "&& s.engine.waiting === 0 && s.requests_in_flight === 0 && s.engine.kv_blocks_free === "
        + "s.engine.kv_blocks_total ? s : null)", WAIT);
    assertEquals(0, after.path("engine").path("running").asInt());
    assertEquals(0, server.server.activeRequests());
    String stats = page.eval(LAST_ANSWER + ".querySelector('.stats').textContent").asText();
    assertTrue(stats.endsWith("finish: stopped"), stats);
    int chunks = Integer.parseInt(stats.replaceAll(".* (\\d+) chunks.*", "$1"));
    assertTrue(chunks < 1800, "stopped only after the whole answer: " + stats);
    assertEquals("false", page.eval("String(document.getElementById('send').disabled)").asText());
  }

  private static void modelOutputAndUserTextAreShownAsText(Chromium.Page page) throws Exception {
    page.set("#extra", "");
    page.set("#max-tokens", "200");
    page.set("#response-format", "json_schema");
    assertEquals(false, page.eval("document.getElementById('schema-label').hidden").asBoolean());
    page.set("#schema", "{\"type\": \"string\", \"const\": " + Chromium.JSON.writeValueAsString(SCRIPT_TEXT) + "}");
    page.type("#prompt", "<b>bold?</b><script>alert(3)</script>");
    page.click("#send");
    page.waitFor(LAST_ANSWER + ".dataset.state === 'done'", WAIT);
    String answer = page.eval(LAST_ANSWER + ".querySelector('.content').textContent").asText();
    assertTrue(answer.contains("<script>alert(1)<") && answer.contains("<img src=x onerror=alert(2)>"), answer);
    String userText = page.eval("[...document.querySelectorAll('#conversation .message.user')].pop()"
        + ".querySelector('.content').textContent").asText();
    assertEquals("<b>bold?</b><script>alert(3)</script>", userText);
    assertEquals(0, page.eval("document.querySelectorAll('#conversation script, #conversation img, "
        + "#conversation b').length").asInt(), "text became markup");
    assertEquals(0, page.eval("window.alerts.length").asInt(), "a script from the output ran");
    page.set("#response-format", "text");
  }

  private static void statusChartsFollowTheLoad(Chromium.Page status, RealServer server, String base)
      throws Exception {
    status.navigate(base + "/status");
    status.waitFor("Number(document.body.dataset.polls || 0) >= 2", WAIT);
    JsonNode idle = values(status, "chart-requests");
    assertEquals(0, idle.path("running").asInt(), idle.toString());
    String facts = status.eval("document.getElementById('facts').textContent").asText();
    assertTrue(facts.contains("device") && facts.contains("cpu") && facts.contains("float32")
        && facts.contains("kv cache tokens"), facts);
    assertTrue(status.eval("document.getElementById('chart-gpu-util').hidden").asBoolean(), "GPU chart on a CPU");

    AtomicBoolean loading = new AtomicBoolean(true);
    ExecutorService clients = Executors.newFixedThreadPool(3);
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    List<Future<Integer>> users = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        users.add(clients.submit(() -> {
          int answered = 0;
          while (loading.get()) {
            HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                    RealServer.body("prompt", "Once upon a time", "max_tokens", 300, "ignore_eos", true,
                        "stream", true))).build(), HttpResponse.BodyHandlers.discarding());
            assertEquals(200, response.statusCode());
            answered++;
          }
          return answered;
        }));
      }
      JsonNode busy = status.waitFor("(() => { const r = JSON.parse(document.getElementById('chart-requests')"
          + ".dataset.values || '{}'); const t = JSON.parse(document.getElementById('chart-throughput').dataset.values"
          + " || '{}'); return r.running > 0 && t.generation > 0 ? {r, t} : null; })()", WAIT);
      assertTrue(busy.path("r").path("running").asInt() > idle.path("running").asInt(), busy.toString());
      int polls = status.eval("Number(document.body.dataset.polls)").asInt();
      status.waitFor("Number(document.body.dataset.polls) >= " + (polls + 5), WAIT); // a few points of the load
      status.screenshot(docs().resolve("status.png"));
    } finally {
      loading.set(false);
      clients.shutdown();
    }
    for (Future<Integer> user : users) assertTrue(user.get() >= 1);
    JsonNode after = status.waitFor("(() => { const r = JSON.parse(document.getElementById('chart-requests')"
        + ".dataset.values); return r.running === 0 ? r : null; })()", WAIT);
    assertEquals(0, after.path("waiting").asInt());
  }

  private static JsonNode values(Chromium.Page page, String chart) throws Exception {
    return Chromium.JSON.readTree(page.eval("document.getElementById('" + chart + "').dataset.values").asText());
  }

  /**
   * Where the screenshots go: docs/images/ of the repository (the folder holding .ci/run) with
   * -Dbarista.updateScreenshots=true, so that a test run leaves tracked files as they were; target/ otherwise.
   */
  private static Path docs() throws java.io.IOException {
    if (!Boolean.getBoolean("barista.updateScreenshots")) {
      return Files.createDirectories(Path.of("target", "screenshots"));
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve(".ci").resolve("run"))) dir = dir.getParent();
    if (dir == null) throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
    return dir.resolve("docs").resolve("images");
  }
}
