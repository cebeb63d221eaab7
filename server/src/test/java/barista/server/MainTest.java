package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
  private final StringWriter err = new StringWriter();
  private final StringWriter out = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(out, true));
    return cli.execute(args);
  }

  @Test
  void unknownFlagIsOneLineAndExitCode2() {
    assertEquals(2, run("serve", "--no-such-flag"));
    assertEquals("barista: unknown option '--no-such-flag'; see 'barista serve --help'", err.toString().strip());
  }

  @Test
  void aMisspelledFlagGetsTheNearestName() {
    assertEquals(2, run("serve", "--max-num-seq", "8"));
    assertEquals("barista: unknown option '--max-num-seq' (did you mean --max-num-seqs?); see 'barista serve --help'",
        err.toString().strip());
  }

  @Test
  void aMisspelledVllmFlagGetsItsName() {
    assertEquals(2, run("serve", "--kv-cache-dtpye=auto"));
    assertEquals("barista: unknown option '--kv-cache-dtpye' (did you mean --kv-cache-dtype?); see 'barista serve "
        + "--help'", err.toString().strip());
  }

  @Test
  void aMisspelledCommandGetsTheNearestName() {
    assertEquals(2, run("srve"));
    assertEquals("barista: unknown command 'srve' (did you mean serve?); see 'barista --help'", err.toString().strip());
  }

  @Test
  void vllmsUnderscoreSpellingIsAccepted() {
    assertEquals(List.of("serve", "--max-num-seqs", "8", "--kv-cache-dtype=auto", "a_b"),
        List.of(Main.vllmSpelling(new String[] {"serve", "--max_num_seqs", "8", "--kv_cache_dtype=auto", "a_b"})));
  }

  @Test
  void vllmFlagsAreHiddenFromHelp() {
    assertEquals(0, run("serve", "--help"));
    assertFalse(out.toString().contains("--kv-cache-dtype"), "vLLM-only flags are in docs/vllm-differences.md");
  }

  @Test
  void aBusyPortExits2BeforeLoadingWithTheAddress() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new java.net.InetSocketAddress("0.0.0.0", 0));
      VllmFlagsServeTest.RecordingLoader loader = new VllmFlagsServeTest.RecordingLoader();
      long start = System.nanoTime();
      int exit = VllmFlagsServeTest.run(loader, err, "serve", "--port", Integer.toString(taken.getLocalPort()));
      double seconds = (System.nanoTime() - start) / 1e9;
      assertEquals(2, exit, err.toString());
      assertEquals("barista: cannot listen on 0.0.0.0:" + taken.getLocalPort() + ": address already in use",
          err.toString().strip());
      assertNull(loader.options, "nothing is loaded");
      assertTrue(seconds < 2, "took " + seconds + " s");
    }
  }

  @Test
  void theListenAddressIsHeldWhileTheModelLoads() throws Exception {
    int[] port = new int[1];
    ServedModelLoader probe = options -> {
      // Loading: the port the options name must already be bound by serve, so binding it again fails.
      try (java.net.ServerSocket again = new java.net.ServerSocket()) {
        port[0] = options.port;
        again.bind(new java.net.InetSocketAddress("0.0.0.0", options.port));
        throw new AssertionError("the port was free while loading");
      } catch (java.net.BindException expected) {
        throw new IllegalStateException("port held");
      }
    };
    int free;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      free = s.getLocalPort();
    }
    assertEquals(1, VllmFlagsServeTest.run(probe, err, "serve", "--port", Integer.toString(free)));
    assertEquals("barista: port held", err.toString().strip());
    try (java.net.ServerSocket after = new java.net.ServerSocket()) {
      after.bind(new java.net.InetSocketAddress("0.0.0.0", free)); // released after the failed load
    }
  }

  @Test
  void tensorParallelAboveOneIsRefused() {
    assertEquals(2, run("serve", "some/model", "--tensor-parallel-size", "2"));
    String message = err.toString().strip();
    assertTrue(message.startsWith("barista: --tensor-parallel-size 2 is not supported"), message);
    assertFalse(message.contains("\n"), "one line, no stack trace");
  }

  @Test
  void stackTraceOnlyWithDebugLogLevel() {
    assertEquals(2, run("serve", "-tp", "2", "--log-level", "debug"));
    assertTrue(err.toString().contains("\tat "), "debug shows the stack trace");
  }

  @Test
  void helpListsTheServeFlags() {
    assertEquals(0, run("serve", "--help"));
    for (String flag : new String[] {"--max-model-len", "--api-key", "--reasoning-parser", "enable-prefix-caching",
        "--allowed-origins", "--max-num-batched-tokens"}) {
      assertTrue(out.toString().contains(flag), flag);
    }
  }

  @Test
  void unknownSubcommandIsExitCode2() {
    assertEquals(2, run("frobnicate"));
    assertTrue(err.toString().startsWith("barista: "), err.toString());
  }
}
