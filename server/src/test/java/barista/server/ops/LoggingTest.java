package barista.server.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.config.ServeOptions.LogFormat;
import barista.config.ServeOptions.LogLevel;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** --log-level, --log-format and --log-file applied over logback.xml; each test restores logback.xml afterwards. */
class LoggingTest {
  private static final Logger log = LoggerFactory.getLogger(LoggingTest.class);

  @TempDir
  Path dir;

  @AfterEach
  void restoreLogbackXml() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    new ContextInitializer(context).autoConfig();
  }

  @Test
  void logbackXmlLoadsWithoutErrorsAndLogsToStderr() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    context.getStatusManager().clear();
    new ContextInitializer(context).autoConfig();
    assertEquals(Status.INFO, new StatusUtil(context).getHighestLevel(0), context.getStatusManager().getCopyOfStatusList()
        .toString());
    var console = (ConsoleAppender<?>) context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE");
    assertEquals("System.err", console.getTarget());
  }

  @Test
  void textFileHasTheConsoleLayoutAndHonoursTheLevel() throws Exception {
    Path file = dir.resolve("logs/barista.log");
    Logging.configure(LogLevel.warning, LogFormat.text, file);
    log.info("not at warning level");
    log.warn("disk {} is slow", "sda");
    List<String> lines = Files.readAllLines(file);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  \\[LoggingTest] disk sda is slow"),
        lines.get(0));
  }

  @Test
  void jsonFileHasOneObjectPerLine() throws Exception {
    Path file = dir.resolve("barista.json");
    Logging.configure(LogLevel.debug, LogFormat.json, file);
    log.debug("first");
    log.info("second with \"{}\"", "quotes");
    List<String> lines = Files.readAllLines(file);
    assertEquals(2, lines.size(), lines.toString());
    JsonNode second = new ObjectMapper().readTree(lines.get(1));
    assertEquals("INFO", second.get("level").asText());
    assertEquals(LoggingTest.class.getName(), second.get("loggerName").asText());
    assertEquals("second with \"quotes\"", second.get("formattedMessage").asText());
    assertEquals("DEBUG", new ObjectMapper().readTree(lines.get(0)).get("level").asText());
  }

  @Test
  void jsonGoesToStderrToo() throws Exception {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      Logging.configure(LogLevel.info, LogFormat.json, null);
      log.info("to journald");
    } finally {
      System.setErr(original);
    }
    String[] lines = captured.toString(StandardCharsets.UTF_8).strip().split("\n");
    JsonNode last = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertEquals("to journald", last.get("formattedMessage").asText());
    assertFalse(captured.toString(StandardCharsets.UTF_8).contains(" INFO  [LoggingTest]"), "no text lines left");
  }

  @Test
  void unwritableFileIsAOneLineError() throws Exception {
    Path blocker = Files.writeString(dir.resolve("not-a-dir"), "");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Logging.configure(LogLevel.info, LogFormat.text, blocker.resolve("barista.log")));
    assertTrue(e.getMessage().startsWith("--log-file: cannot write "), e.getMessage());
  }
}
