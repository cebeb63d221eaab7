package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Prompts of megabytes on the real tokenizer: parsing, templating and tokenizing run off the event loops, and the
 * prompt's length is bounded from its bytes before any tokenizing, and a large body is held off the Java heap, so
 * /health keeps answering at once.
 */
class HugePromptTest {
  private static final int PROMPT_BYTES = 8 << 20;

  private static final long PROBE_PERIOD_NANOS = 20_000_000L;
  private static final int MIN_PROBES = 25;
  private static final long BOUND_NANOS = 200_000_000L;
  private static final long LOADED_BOX_BOUND_NANOS = 1_000_000_000L;

  @Test
  void eightConcurrentHugePromptsLeaveHealthAnsweringWithin200Ms() throws Exception {
    // As serve runs (the jar's manifest opens java.nio; the tests' argLine does here): large bodies' buffers are not
    // zeroed, so the loop that reads a body's first bytes does not touch all 8 MiB at once.
    assertTrue(io.netty.util.internal.PlatformDependent.useDirectBufferNoCleaner(), "Netty zeroes direct buffers");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try (TinyServer s = new TinyServer()) {
      String words = "lorem ipsum dolor sit amet ".repeat(PROMPT_BYTES / 27);
      // Encoded before the probe starts: the test's own client work is not what is measured.
      byte[] chat = ("{\"messages\":[{\"role\":\"user\",\"content\":\"" + words + "\"}],\"max_tokens\":4}")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      byte[] completion = ("{\"prompt\":\"" + words + "\",\"max_tokens\":4}")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      words = null;
      // The probe is a raw keep-alive connection of its own: an HTTP client's threads would add their own delays.
      java.net.Socket probe = new java.net.Socket("127.0.0.1", s.port());
      probe.setTcpNoDelay(true);
      for (int i = 0; i < 5; i++) health(probe); // warm up: the first /health of a JVM loads its classes
      // The test's own garbage (the strings above) is collected now, not during the burst it would be blamed on.
      System.gc();
      boolean loadedBox = loadedBox();
      List<String> humongousCollections = java.util.Collections.synchronizedList(new ArrayList<>());
      javax.management.NotificationListener gcListener = (notification, handback) -> {
        if (!com.sun.management.GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION
            .equals(notification.getType())) {
          return;
        }
        String cause = com.sun.management.GarbageCollectionNotificationInfo.from(
            (javax.management.openmbean.CompositeData) notification.getUserData()).getGcCause();
        if (cause.contains("Humongous")) humongousCollections.add(cause);
      };
      List<java.lang.management.GarbageCollectorMXBean> collectors =
          java.lang.management.ManagementFactory.getGarbageCollectorMXBeans();
      for (var collector : collectors) {
        ((javax.management.NotificationEmitter) collector).addNotificationListener(gcListener, null, null);
      }
      // Raw sockets: the test's own HTTP client would spend more CPU sending 64 MiB than the server receiving it.
      List<CompletableFuture<String>> huge = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String path = i % 2 == 0 ? "/v1/chat/completions" : "/v1/completions";
        byte[] body = i % 2 == 0 ? chat : completion;
        huge.add(CompletableFuture.supplyAsync(() -> post(s.port(), path, body), pool));
      }
      CompletableFuture<Void> all = CompletableFuture.allOf(huge.toArray(CompletableFuture[]::new));
      // Probes on a fixed schedule from the burst's start until it is over and MIN_PROBES have run. Each one's
      // latency counts from its scheduled time, so a slow answer also counts against the probes it delayed
      // (no coordinated omission), and a stall anywhere in the burst meets a probe.
      List<Long> latencies = new ArrayList<>();
      int probesDuring = 0;
      long first = System.nanoTime();
      for (int k = 0; !all.isDone() || k < MIN_PROBES; k++) {
        long scheduled = first + k * PROBE_PERIOD_NANOS;
        long wait = scheduled - System.nanoTime();
        if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait); // the schedule, not synchronization
        if (!all.isDone()) probesDuring++;
        health(probe);
        latencies.add(System.nanoTime() - scheduled);
      }
      for (CompletableFuture<String> f : huge) {
        String response = f.get(60, TimeUnit.SECONDS);
        assertTrue(response.startsWith("HTTP/1.1 400"), response);
        assertTrue(response.contains("maximum context length"), response);
      }
      assertTrue(probesDuring >= 1, "no probe ran while the prompts were served");
      for (var collector : collectors) {
        ((javax.management.NotificationEmitter) collector).removeNotificationListener(gcListener);
      }
      // The mechanism, whatever the machine's load: 8 MiB bodies on the heap were humongous arrays for G1 (regions
      // of 2 MiB under -Xmx4g), whose collections, concurrent cycles and heap growth stalled every thread.
      assertTrue(humongousCollections.isEmpty(), "collections for humongous allocations: " + humongousCollections);
      long slowest = latencies.stream().mapToLong(Long::longValue).max().orElseThrow();
      String seen = latencies.size() + " probes (" + probesDuring + " during the prompts), slowest "
          + slowest / 1_000_000 + " ms" + (loadedBox ? " on a loaded machine (load average "
          + java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() + ")" : "");
      System.out.println("HugePromptTest: " + seen + " " + latencies.stream().map(l -> l / 1_000_000).toList());
      // Before, /health waited 44-46 s behind the tokenizer, then up to 285 ms behind the collections the bodies
      // started on the heap, then 120-250 ms behind event loops that read a megabyte of one upload per turn. A
      // machine already overloaded twice over (other builds, other agents) delays any thread by its scheduling
      // alone, the probe's included: there only the 1 s bound is asserted.
      assertTrue(slowest < (loadedBox ? LOADED_BOX_BOUND_NANOS : BOUND_NANOS), seen);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * True when runnable work already keeps twice the machine's cores busy (the last minute's load average): what else
   * runs then delays the probe's threads by scheduling alone. On the 2-core box the slowest probe was 19-55 ms at
   * load 2-2.9 and 33-59 ms with a CPU hog beside the test (load 3-3.6).
   */
  private static boolean loadedBox() {
    double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return load >= 2.0 * Runtime.getRuntime().availableProcessors();
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
