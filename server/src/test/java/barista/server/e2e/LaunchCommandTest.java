package barista.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment guide's launch command (issue 3) minus --model (the demo model) and --quantization awq, plus
 * --device cpu, run as its own process through {@code barista.server.Main} as scripts/barista runs it; then what
 * {@code curl -N} shows: a chat stream whose tokens arrive as separate events while the answer is still generating.
 */
class LaunchCommandTest {
  private static final List<String> LAUNCH = List.of("serve", "--host", "0.0.0.0", "--port", "0",
      "--tensor-parallel-size", "1", "--dtype", "auto", "--gpu-memory-utilization", "0.9", "--max-model-len", "4096",
      "--enforce-eager", "--max-num-seqs", "256", "--max-num-batched-tokens", "4096", "--scheduling-policy", "fcfs",
      "--device", "cpu",
      // Flags R1 deployment guides and vLLM unit files carry, accepted with no effect (issue 24).
      "--enable-reasoning", "--reasoning-parser", "deepseek_r1", "--kv-cache-dtype", "auto", "--load-format", "auto",
      "--tokenizer-mode", "auto", "--max-seq-len-to-capture", "4096", "--disable-custom-all-reduce");
  private static final Pattern SERVING = Pattern.compile("Serving .* on http://0\\.0\\.0\\.0:(\\d+)");

  @Test
  @Timeout(120)
  void launchCommandServesAChatStreamOneEventAtATime(@TempDir Path home) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-Duser.home=" + home, "-cp", classPath(), "barista.server.Main"));
    command.addAll(LAUNCH);
    Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    List<String> log = new ArrayList<>();
    try {
      BufferedReader stderr = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
      int port = awaitStartup(stderr, log);

      assertTrue(log.stream().anyMatch(l -> l.contains("Started server process [" + process.pid() + "]")), log::toString);
      assertTrue(log.stream().anyMatch(l -> l.contains("weights are random")), log::toString);
      assertTrue(log.stream().anyMatch(l -> l.contains("no effect here") && l.contains("--enable-reasoning")
          && l.contains("--kv-cache-dtype auto") && l.contains("--max-seq-len-to-capture 4096")
          && l.contains("--disable-custom-all-reduce")), log::toString);
      // --enforce-eager has an effect since issue 11 (no CUDA graphs), so it is no longer listed as a no-op flag.
      assertFalse(log.stream().anyMatch(l -> l.contains("no effect here") && l.contains("--enforce-eager")),
          log::toString);
      assertTrue(Files.isRegularFile(home.resolve(".cache/barista/demo-tiny/config.json")), "demo model made");

      assertTokensStreamOneEventAtATime(port);

      process.toHandle().destroy(); // SIGTERM, as systemd stops it (Process.destroy would also close our pipes)
      assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the server exits after SIGTERM");
      stderr.lines().forEach(log::add); // read only once it has exited: the JDK drains the pipe at exit
      assertTrue(log.stream().anyMatch(l -> l.toLowerCase().contains("shutting down")), log::toString);
      assertEquals(0, process.exitValue(), "a SIGTERM drain exits 0");
    } finally {
      process.destroyForcibly();
    }
  }

  /**
   * A second server on a port that is taken exits 2 naming the address, before loading anything: the demo model it
   * would serve is never made.
   */
  @Test
  @Timeout(60)
  void aSecondServerOnATakenPortExits2BeforeLoading(@TempDir Path home) throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new java.net.InetSocketAddress("0.0.0.0", 0));
      int port = taken.getLocalPort();
      Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx256m", "-Duser.home=" + home, "-cp", classPath(), "barista.server.Main", "serve", "--port",
          Integer.toString(port), "--device", "cpu").redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      try {
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, process.exitValue(), stderr);
        assertTrue(stderr.strip().endsWith("barista: cannot listen on 0.0.0.0:" + port + ": address already in use"),
            stderr);
        assertFalse(Files.exists(home.resolve(".cache/barista/demo-tiny")), "the model was not touched");
      } finally {
        process.destroyForcibly();
      }
    }
  }

  /** Surefire's test class path: the server's classes and all their dependencies. */
  private static String classPath() {
    return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  }

  /** Reads the log until "Application startup complete."; returns the port from the "Serving ... on" line. */
  private static int awaitStartup(BufferedReader stderr, List<String> log) throws IOException {
    int port = -1;
    for (String line; (line = stderr.readLine()) != null; ) {
      log.add(line);
      Matcher serving = SERVING.matcher(line);
      if (serving.find()) port = Integer.parseInt(serving.group(1));
      if (line.contains("Application startup complete.")) {
        assertTrue(port > 0, "no 'Serving ... on' line before startup completed: " + log);
        return port;
      }
    }
    throw new AssertionError("the server exited before startup completed:\n" + String.join("\n", log));
  }

  /**
   * Sends a long greedy stream request over a raw socket and reads its first events: each HTTP chunk must hold
   * exactly one SSE event, and after ten of them the request must still be running (the answer is 3000 tokens), so
   * tokens reach the client as they are generated, not when the answer is done. Hanging up then aborts it.
   */
  private static void assertTokensStreamOneEventAtATime(int port) throws IOException, InterruptedException {
    String body = RealServer.body("messages", RealServer.userSays("Tell me everything."), "stream", true,
        "temperature", 0, "max_tokens", 3000, "ignore_eos", true);
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
          + "Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: "
          + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
      DataInputStream in = new DataInputStream(socket.getInputStream());
      String headers = readUntilBlankLine(in);
      assertTrue(headers.startsWith("HTTP/1.1 200"), headers);
      assertTrue(headers.toLowerCase().contains("content-type: text/event-stream"), headers);
      assertTrue(headers.toLowerCase().contains("transfer-encoding: chunked"), headers);
      for (int event = 0; event < 10; event++) {
        String chunk = readChunk(in);
        assertTrue(chunk.startsWith("data: {") && chunk.endsWith("\n\n") && chunk.indexOf("\n\n") == chunk.length() - 2,
            "chunk " + event + " is not exactly one event: " + chunk);
        assertTrue(chunk.contains("\"chat.completion.chunk\""), chunk);
      }
      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
      assertEquals(1, EndToEndTest.metric(metrics, "vllm:num_requests_running"), "still generating: " + metrics);
    }
  }

  private static String readUntilBlankLine(DataInputStream in) throws IOException {
    return readUntil(in, "\r\n\r\n");
  }

  private static String readUntil(DataInputStream in, String end) throws IOException {
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    while (!read.toString(StandardCharsets.ISO_8859_1).endsWith(end)) {
      int b = in.read();
      if (b < 0) throw new IOException("connection closed before '" + end.strip() + "': " + read);
      read.write(b);
    }
    return read.toString(StandardCharsets.ISO_8859_1);
  }

  /** One chunk of a chunked HTTP body: "<hex size>\r\n<data>\r\n". */
  private static String readChunk(DataInputStream in) throws IOException {
    int size = Integer.parseInt(readUntil(in, "\r\n").strip(), 16);
    byte[] data = in.readNBytes(size);
    readUntil(in, "\r\n");
    return new String(data, StandardCharsets.UTF_8);
  }
}
