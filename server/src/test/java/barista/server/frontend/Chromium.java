package barista.server.frontend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A headless Chromium driven through the DevTools protocol over the JDK's own WebSocket client: no WebDriver, no
 * library. One browser connection; each page is a target attached in flat mode (its commands carry a session id).
 */
final class Chromium implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> replies = new ConcurrentHashMap<>();
  /** Console errors, uncaught exceptions and CSP refusals, by session, as the pages report them. */
  private final Map<String, List<String>> problems = new ConcurrentHashMap<>();

  /** The Chromium binary: -Dbarista.chromium, else chromium / chromium-browser / google-chrome on PATH; or null. */
  static Path find() {
    String given = System.getProperty("barista.chromium");
    if (given != null && !given.isBlank()) return Files.isExecutable(Path.of(given)) ? Path.of(given) : null;
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      for (String name : List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")) {
        Path candidate = Path.of(dir, name);
        if (!dir.isEmpty() && Files.isExecutable(candidate)) return candidate;
      }
    }
    return null;
  }

  private Chromium(Process process, Path profile, WebSocket.Builder builder, URI endpoint) throws Exception {
    this.process = process;
    this.profile = profile;
    this.socket = builder.buildAsync(endpoint, new Listener()).get(30, TimeUnit.SECONDS);
  }

  static Chromium launch(Path binary) throws Exception {
    Path profile = Files.createTempDirectory("barista-chromium");
    List<String> command = new ArrayList<>(List.of(binary.toString(), "--headless=new", "--disable-gpu",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
        "--disable-sync", "--disable-component-update", "--mute-audio", "--user-data-dir=" + profile,
        "--remote-debugging-port=0", "--window-size=1280,860"));
    // Chromium's sandbox cannot start as root or in most CI containers; the pages are the server's own.
    command.add("--no-sandbox");
    command.add("about:blank");
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(profile.resolve("chromium.log").toFile()).start();
    try {
      // Chromium writes the port it picked and the browser's path to this file once it listens.
      Path portFile = profile.resolve("DevToolsActivePort");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      List<String> lines = List.of();
      while (lines.size() < 2) {
        if (!process.isAlive()) {
          throw new IllegalStateException("chromium exited with " + process.exitValue() + ": "
              + Files.readString(profile.resolve("chromium.log")));
        }
        if (System.nanoTime() > deadline) throw new IllegalStateException("chromium did not start within 60 s");
        if (Files.exists(portFile)) lines = Files.readAllLines(portFile);
        if (lines.size() < 2) waitForExit(process, 50); // a moment, or less if it exits
      }
      URI endpoint = URI.create("ws://127.0.0.1:" + lines.get(0).strip() + lines.get(1).strip());
      return new Chromium(process, profile, HttpClient.newHttpClient().newWebSocketBuilder(), endpoint);
    } catch (Exception | Error e) {
      process.destroyForcibly();
      deleteProfile(profile);
      throw e;
    }
  }

  private static void waitForExit(Process process, long millis) throws InterruptedException {
    process.waitFor(millis, TimeUnit.MILLISECONDS);
  }

  /** Sends one command and waits for its result; a protocol error fails. */
  JsonNode send(String sessionId, String method, ObjectNode params) throws Exception {
    int id = ids.incrementAndGet();
    ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
    message.set("params", params == null ? JSON.createObjectNode() : params);
    if (sessionId != null) message.put("sessionId", sessionId);
    CompletableFuture<JsonNode> reply = new CompletableFuture<>();
    replies.put(id, reply);
    synchronized (socket) {
      socket.sendText(JSON.writeValueAsString(message), true).get(30, TimeUnit.SECONDS);
    }
    JsonNode answer = reply.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    if (answer.has("error")) throw new IllegalStateException(method + " failed: " + answer.get("error"));
    return answer.path("result");
  }

  /** A new tab of the given viewport size. */
  Page newPage(int width, int height) throws Exception {
    String target = send(null, "Target.createTarget", JSON.createObjectNode().put("url", "about:blank"))
        .get("targetId").asText();
    String session = send(null, "Target.attachToTarget", JSON.createObjectNode().put("targetId", target)
        .put("flatten", true)).get("sessionId").asText();
    problems.put(session, java.util.Collections.synchronizedList(new ArrayList<>()));
    for (String domain : List.of("Page.enable", "Runtime.enable", "Log.enable")) send(session, domain, null);
    send(session, "Emulation.setDeviceMetricsOverride", JSON.createObjectNode().put("width", width)
        .put("height", height).put("deviceScaleFactor", 1).put("mobile", false));
    return new Page(this, session);
  }

  List<String> problems(String session) {
    synchronized (problems.get(session)) {
      return List.copyOf(problems.get(session));
    }
  }

  private void event(JsonNode message) {
    List<String> list = problems.get(message.path("sessionId").asText());
    if (list == null) return;
    JsonNode params = message.path("params");
    switch (message.path("method").asText()) {
      case "Runtime.exceptionThrown" -> list.add("exception: " + params.path("exceptionDetails"));
      case "Runtime.consoleAPICalled" -> {
        if (params.path("type").asText().equals("error")) list.add("console.error: " + params.path("args"));
      }
      case "Log.entryAdded" -> {
        JsonNode entry = params.path("entry");
        if (entry.path("level").asText().equals("error")) list.add("log: " + entry.path("text").asText() + " " + entry.path("url").asText());
      }
      default -> { }
    }
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          JsonNode message = JSON.readTree(partial.toString());
          if (message.has("id")) {
            CompletableFuture<JsonNode> reply = replies.remove(message.get("id").asInt());
            if (reply != null) reply.complete(message);
          } else {
            event(message);
          }
        } catch (IOException e) {
          replies.values().forEach(r -> r.completeExceptionally(e));
        }
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      replies.values().forEach(r -> r.completeExceptionally(error));
    }
  }

  @Override
  public void close() throws Exception {
    try {
      send(null, "Browser.close", null);
    } catch (Exception alreadyGone) {
      // it is destroyed below anyway
    }
    socket.abort();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    deleteProfile(profile);
  }

  private static void deleteProfile(Path profile) throws IOException {
    try (Stream<Path> files = Files.walk(profile)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (java.nio.file.NoSuchFileException gone) {
      // nothing left to delete
    }
  }

  /** One tab. */
  static final class Page {
    private final Chromium browser;
    private final String session;

    Page(Chromium browser, String session) {
      this.browser = browser;
      this.session = session;
    }

    void navigate(String url) throws Exception {
      browser.send(session, "Page.navigate", JSON.createObjectNode().put("url", url));
      waitFor("document.readyState === 'complete' && location.href === " + JSON.writeValueAsString(url),
          Duration.ofSeconds(30));
    }

    /** The value of a JavaScript expression (a promise is awaited); a thrown error fails. */
    JsonNode eval(String expression) throws Exception {
      JsonNode result = browser.send(session, "Runtime.evaluate", JSON.createObjectNode()
          .put("expression", expression).put("awaitPromise", true).put("returnByValue", true));
      if (result.has("exceptionDetails")) {
        throw new AssertionError("page script failed: " + expression + "\n" + result.get("exceptionDetails"));
      }
      return result.path("result").path("value");
    }

    /** Waits, inside the page, until the expression is truthy, and returns its value; fails after the timeout. */
    JsonNode waitFor(String expression, Duration timeout) throws Exception {
      String source = JSON.writeValueAsString(expression);
      return eval("new Promise((resolve, reject) => { const start = Date.now(); (function check() { let v; "
          + "try { v = (" + expression + "); } catch (e) { v = undefined; } "
          + "if (v) resolve(v); else if (Date.now() - start > " + timeout.toMillis() + ") "
          + "reject(new Error('timed out waiting for ' + " + source + ")); else setTimeout(check, 20); })(); })");
    }

    /** Clicks the element's centre with the mouse, as a user would. */
    void click(String selector) throws Exception {
      JsonNode box = eval("(() => { const e = document.querySelector(" + JSON.writeValueAsString(selector) + "); "
          + "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
          + "return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()");
      for (String type : List.of("mousePressed", "mouseReleased")) {
        browser.send(session, "Input.dispatchMouseEvent", JSON.createObjectNode().put("type", type)
            .put("x", box.get("x").asDouble()).put("y", box.get("y").asDouble()).put("button", "left")
            .put("clickCount", 1));
      }
    }

    /** Focuses the element and types the text into it as keyboard input. */
    void type(String selector, String text) throws Exception {
      eval("document.querySelector(" + JSON.writeValueAsString(selector) + ").focus()");
      browser.send(session, "Input.insertText", JSON.createObjectNode().put("text", text));
    }

    /** Sets a form control's value as a script would and tells the page it changed. */
    void set(String selector, String value) throws Exception {
      eval("(() => { const e = document.querySelector(" + JSON.writeValueAsString(selector) + "); e.value = "
          + JSON.writeValueAsString(value) + "; e.dispatchEvent(new Event('change')); })()");
    }

    void screenshot(Path file) throws Exception {
      JsonNode shot = browser.send(session, "Page.captureScreenshot", JSON.createObjectNode().put("format", "png"));
      Files.createDirectories(file.getParent());
      Files.write(file, Base64.getDecoder().decode(shot.get("data").asText()));
    }

    /** Console errors, uncaught exceptions and refused loads (CSP) the page reported so far. */
    List<String> problems() {
      return browser.problems(session);
    }
  }
}
