package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Prompts of megabytes on the real tokenizer: parsing, templating and tokenizing run off the event loops, and the
 * prompt's length is bounded from its bytes before any tokenizing, so /health keeps answering at once.
 */
class HugePromptTest {
  private static final int PROMPT_BYTES = 8 << 20;

  @Test
  void eightConcurrentHugePromptsLeaveHealthAnsweringWithin200Ms() throws Exception {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try (TinyServer s = new TinyServer()) {
      String words = "lorem ipsum dolor sit amet ".repeat(PROMPT_BYTES / 27);
      // Encoded before the probe starts: the test's own client work is not what is measured.
      byte[] chat = ("{\"messages\":[{\"role\":\"user\",\"content\":\"" + words + "\"}],\"max_tokens\":4}")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      byte[] completion = ("{\"prompt\":\"" + words + "\",\"max_tokens\":4}")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      // The probe is a raw keep-alive connection of its own: an HTTP client's threads would add their own delays.
      java.net.Socket probe = new java.net.Socket("127.0.0.1", s.port());
      probe.setTcpNoDelay(true);
      for (int i = 0; i < 5; i++) health(probe); // warm up
      // Raw sockets: the test's own HTTP client would spend more CPU sending 64 MiB than the server receiving it.
      List<CompletableFuture<String>> huge = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String path = i % 2 == 0 ? "/v1/chat/completions" : "/v1/completions";
        byte[] body = i % 2 == 0 ? chat : completion;
        huge.add(CompletableFuture.supplyAsync(() -> post(s.port(), path, body), pool));
      }
      long slowestNanos = 0;
      int probes = 0;
      int within200Ms = 0;
      CompletableFuture<Void> all = CompletableFuture.allOf(huge.toArray(CompletableFuture[]::new));
      int probesDuring = 0;
      while (!all.isDone() || probes < 20) { // through the prompts, and 20 probes at least
        boolean during = !all.isDone();
        long start = System.nanoTime();
        health(probe);
        long took = System.nanoTime() - start;
        slowestNanos = Math.max(slowestNanos, took);
        if (during) {
          probesDuring++;
          if (took < 200_000_000L) within200Ms++;
        }
        probes++;
        Thread.sleep(10); // paces the probe, not synchronization
      }
      for (CompletableFuture<String> f : huge) {
        String response = f.get(60, TimeUnit.SECONDS);
        assertTrue(response.startsWith("HTTP/1.1 400"), response);
        assertTrue(response.contains("maximum context length"), response);
      }
      assertTrue(probesDuring >= 1, "no probe ran while the prompts were served");
      // Before, /health waited 44-46 s behind the tokenizer. On this shared 2-core box a probe now and then waits
      // for the CPU or a collection (up to 0.8 s at load 9), so the bound is on nine in ten probes, and 1 s on all.
      assertTrue(within200Ms >= 0.9 * probesDuring, within200Ms + " of " + probesDuring + " probes within 200 ms");
      assertTrue(slowestNanos < 1_000_000_000L, "/health took " + slowestNanos / 1e6 + " ms");
    } finally {
      pool.shutdownNow();
    }
  }

  /** GET /health on a kept connection; fails unless the answer is 200. */
  private static void health(java.net.Socket probe) throws java.io.IOException {
    probe.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    java.io.InputStream in = probe.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) throw new AssertionError("the probe connection closed");
      head.append((char) b);
    }
    assertTrue(head.toString().startsWith("HTTP/1.1 200"), head.toString());
    java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
    int remaining = length.find() ? Integer.parseInt(length.group(1)) : 0;
    while (remaining > 0) {
      int n = in.read(new byte[remaining]);
      if (n < 0) throw new AssertionError("the probe connection closed");
      remaining -= n;
    }
  }

  /** One request on its own connection, the whole response as text. */
  private static String post(int port, String path, byte[] body) {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      java.io.OutputStream out = socket.getOutputStream();
      out.write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
          + body.length + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
