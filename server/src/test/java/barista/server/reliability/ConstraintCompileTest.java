package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Constraint compiles on the real model's vocabulary: two pathological constraints neither hold up a third client's
 * small one nor run past their own budget, and each refusal names its own constraint.
 */
class ConstraintCompileTest {
  /** A DFA of 2^17 states: refused as too complex, or past a 1 s budget on a slow box. */
  private static final String EXPLODING = "(a|b)*a(a|b){16}";

  /**
   * A subset construction whose states are costly (many ranges, large subsets): it runs for seconds before the
   * state limit refuses it. {@code slow(k)} for distinct k are distinct constraints.
   */
  private static String slow(int copies) {
    return "(([acegikmoqsuwy02468]|[bdfhjlnprtvxz13579])*[aeiou]([bdfhjlnprtvxz13579]|[acegikmoqsuwy]){12}){1,"
        + copies + "}";
  }

  private static String completion(String regex) {
    return "{\"prompt\":\"answer\",\"max_tokens\":2,\"structured_outputs\":{\"regex\":\"" + regex + "\"}}";
  }

  @Test
  void twoPathologicalConstraintsDoNotHoldUpAThirdAndStopAtTheirBudget() throws Exception {
    try (TinyServer s = new TinyServer("--constraint-compile-timeout", "1")) {
      assertEquals(200, s.post("/v1/completions", completion("(ok|fine)")).statusCode()); // warm up
      List<CompletableFuture<HttpResponse<String>>> pathological = new ArrayList<>();
      long sent = System.nanoTime();
      for (String variant : new String[] {EXPLODING, EXPLODING.replace("a", "c")}) {
        pathological.add(s.client.sendAsync(s.request("/v1/completions", completion(variant)).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      Thread.sleep(200); // lets both start compiling first: pacing, not synchronization
      long start = System.nanoTime();
      HttpResponse<String> victim = s.post("/v1/completions", completion("(yes|no)"));
      double victimSeconds = (System.nanoTime() - start) / 1e9;
      assertEquals(200, victim.statusCode(), victim.body());
      String text = TinyServer.json(victim).get("choices").get(0).get("text").asText();
      assertTrue(text.equals("yes") || text.equals("no") || "yes".startsWith(text) || "no".startsWith(text), text);
      assertTrue(victimSeconds < 1, "(yes|no) took " + victimSeconds + " s beside two pathological compiles");
      for (CompletableFuture<HttpResponse<String>> f : pathological) {
        HttpResponse<String> refused = f.get(30, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - sent) / 1e9;
        assertEquals(400, refused.statusCode(), refused.body());
        JsonNode error = TinyServer.json(refused).get("error");
        assertEquals("structured_outputs.regex", error.get("param").asText());
        assertTrue(error.get("message").asText().contains("did not compile within its budget")
            || error.get("message").asText().contains("too complex"), refused.body());
        // Answered when its compile stopped: after its 1 s budget, with slack for sending, parsing and a loaded
        // 2-core box (the full suite once took 2.8 s here).
        assertTrue(seconds < 1 + 3, "the pathological compile was answered after " + seconds + " s");
      }
      // Both refused: their compiles must have stopped, not go on burning CPU behind the answer.
      long before = compilerCpuNanos();
      Thread.sleep(500); // a measuring window, not synchronization
      long burnt = compilerCpuNanos() - before;
      assertTrue(burnt < 100_000_000L, "the compiler threads took " + burnt / 1e6 + " ms of CPU after both refusals");
    }
  }

  /**
   * One client (one remote address, many connections) holds at most three of the four compiler threads: its fourth
   * concurrent compile is refused with 503 at once, and another client's (yes|no) still compiles within 1 s.
   */
  @Test
  void oneClientCannotTakeEveryCompilerThread() throws Exception {
    try (TinyServer s = new TinyServer("--constraint-compile-timeout", "20")) {
      assertEquals(200, s.post("/v1/completions", completion("(ok|fine)")).statusCode()); // warm up
      java.util.Map<Long, Long> before = compilerCpuByThread();
      List<RawConnection> hog = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          hog.add(new RawConnection(s.port()).post("/v1/completions", completion(slow(40 - i))));
        }
        TinyServer.await("three compiles running", java.time.Duration.ofSeconds(10), () -> {
          java.util.Map<Long, Long> now = compilerCpuByThread();
          return now.entrySet().stream().filter(e -> e.getValue() - before.getOrDefault(e.getKey(), 0L) > 20_000_000L)
              .count() >= 3;
        });
        try (RawConnection fourth = new RawConnection(s.port())) {
          String answer = fourth.post("/v1/completions", completion(slow(30))).readUntil("}}", 1);
          assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
          assertTrue(answer.contains("this client has 3 output constraints compiling"), answer);
        }
        long start = System.nanoTime();
        try (RawConnection other = new RawConnection("127.0.0.2", s.port())) {
          String answer = other.post("/v1/completions", completion("(yes|no)")).readUntil("\"usage\"", 1);
          double seconds = (System.nanoTime() - start) / 1e9;
          assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
          assertTrue(seconds < 1, "another client's (yes|no) took " + seconds + " s beside three slow compiles");
        }
      } finally {
        for (RawConnection c : hog) c.close(); // hanging up stops their compiles
      }
    }
  }

  /** CPU time of each compiler thread so far, in nanoseconds, by thread id. */
  private static java.util.Map<Long, Long> compilerCpuByThread() {
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
    java.util.Map<Long, Long> cpu = new java.util.HashMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("barista-constraint-compiler")) cpu.put(t.getId(), threads.getThreadCpuTime(t.getId()));
    }
    return cpu;
  }

  /** CPU time of the compiler threads so far, in nanoseconds. */
  private static long compilerCpuNanos() {
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
    long total = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("barista-constraint-compiler")) total += Math.max(0, threads.getThreadCpuTime(t.getId()));
    }
    return total;
  }

  @Test
  void aCompileStopsWhenItsClientDisconnects() throws Exception {
    try (TinyServer s = new TinyServer("--constraint-compile-timeout", "60")) {
      byte[] body = completion(slow(40)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      long before = compilerCpuNanos();
      try (java.net.Socket client = new java.net.Socket("127.0.0.1", s.port())) {
        client.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
            + "application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        client.getOutputStream().write(body);
        TinyServer.await("the compile is running", java.time.Duration.ofSeconds(10),
            () -> compilerCpuNanos() - before > 200_000_000L);
      } // the client hangs up mid-compile; the 60 s budget is far off
      Thread.sleep(1000); // the second the compile has to notice: a bound, not synchronization
      long stopped = compilerCpuNanos();
      Thread.sleep(500);
      long spent = compilerCpuNanos() - stopped;
      assertTrue(spent < 50_000_000L, "the compilers spent " + spent / 1e6 + " ms of CPU after the hang-up");
      assertEquals(200, s.post("/v1/completions", completion("(yes|no)")).statusCode());
    }
  }
}
