package barista.server.progress;

import static barista.server.progress.ProgressReporterTest.assertNoControlCharacters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import barista.engine.TestModels;
import barista.server.e2e.RealServer;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code barista make-model}, {@code quantize} and {@code bench} as a user runs them: in a pseudo-terminal (util-linux
 * {@code script}) they draw a bar in place; with stderr in a file they write plain lines, no control characters.
 */
class CommandProgressTest {
  private static final String FULL_BAR = "100%|" + "#".repeat(30) + "|";
  private static RealServer server;

  @TempDir
  Path dir;

  @BeforeAll
  static void startServer() throws Exception {
    server = RealServer.start();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) server.close();
  }

  @Test
  void makeModel() throws Exception {
    String terminal = onTerminal("make-model", "--out", dir.resolve("t").toString(), "--layers", "3");
    assertTrue(terminal.contains("\rmake-model: ") && terminal.contains("make-model: " + FULL_BAR + " head, "),
        terminal);
    List<String> lines = progressLines(inLogFile("make-model", "--out", dir.resolve("f").toString(), "--layers", "3"),
        "make-model: ");
    assertTrue(lines.get(lines.size() - 1).matches("make-model: 100% head, ([\\d.]+ MiB) of \\1 \\[\\d:\\d\\d]"),
        lines.toString());
  }

  @Test
  void quantize() throws Exception {
    String model = TestModels.tiny().toString();
    String terminal = onTerminal("quantize", "--model", model, "--out", dir.resolve("t").toString(), "--method", "awq");
    assertTrue(terminal.contains("\rquantize: ") && terminal.contains("quantize: " + FULL_BAR), terminal);
    List<String> lines = progressLines(inLogFile("quantize", "--model", model, "--out", dir.resolve("f").toString(),
        "--method", "int8"), "quantize: ");
    assertTrue(lines.get(lines.size() - 1).matches("quantize: 100% (layer \\d/2|head|embeddings), .* \\[\\d:\\d\\d]"),
        lines.toString());
  }

  @Test
  void bench() throws Exception {
    String[] args = {"bench", "--base-url", "http://127.0.0.1:" + server.port(), "--num-prompts", "6",
        "--input-len", "8", "--output-len", "8", "--concurrency", "2"};
    String terminal = onTerminal(args);
    assertTrue(terminal.contains("\rbench:   0%|" + " ".repeat(30) + "| 0/6 requests"), terminal);
    assertTrue(terminal.matches("(?s).*bench: " + java.util.regex.Pattern.quote(FULL_BAR)
        + " 6/6 requests, [\\d.]+ req/s, [\\d.]+ output tok/s \\[.*"), terminal);
    List<String> lines = progressLines(inLogFile(args), "bench: ");
    assertEquals("bench:   0% 0/6 requests [0:00]", lines.get(0));
    assertTrue(lines.get(lines.size() - 1).matches("bench: 100% 6/6 requests, [\\d.]+ req/s, [\\d.]+ output tok/s "
        + "\\[\\d:\\d\\d]"), lines.toString());
  }

  private static List<String> command(String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("surefire.test.class.path",
            System.getProperty("java.class.path")), "barista.server.Main"));
    command.addAll(List.of(args));
    return command;
  }

  /** stdout and stderr of the command run in a pseudo-terminal, as a terminal would receive them. */
  private String onTerminal(String... args) throws Exception {
    assumeTrue(onPath("script"), "no util-linux script to make a pseudo-terminal");
    StringBuilder line = new StringBuilder();
    for (String word : command(args)) line.append('\'').append(word.replace("'", "'\\''")).append("' ");
    Path output = dir.resolve("terminal.out");
    Process process = new ProcessBuilder("script", "-qec", line.toString(), "/dev/null")
        .redirectInput(ProcessBuilder.Redirect.PIPE).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    process.getOutputStream().close();
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", args));
    String text = Files.readString(output, StandardCharsets.UTF_8);
    assertEquals(0, process.exitValue(), text);
    return text;
  }

  /** stderr of the command written to a file, as under systemd or with 2> log; stdout is discarded. */
  private String inLogFile(String... args) throws Exception {
    Path log = dir.resolve("stderr.log");
    Process process = new ProcessBuilder(command(args)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(log.toFile()).start();
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", args));
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, process.exitValue(), text);
    assertNoControlCharacters(text);
    return text;
  }

  private static List<String> progressLines(String text, String prefix) {
    List<String> lines = text.lines().filter(l -> l.startsWith(prefix)).toList();
    assertFalse(lines.isEmpty(), text);
    return lines;
  }

  private static boolean onPath(String name) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) return true;
    }
    return false;
  }
}
