package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
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
    assertEquals("barista: Unknown option: '--no-such-flag'", err.toString().strip());
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
