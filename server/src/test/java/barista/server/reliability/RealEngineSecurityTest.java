package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What the server writes to its log, and what it does with message text, on the real engine. (Which routes the
 * API key guards, --protect-metrics and CORS are in barista.server.SecurityTest.)
 */
class RealEngineSecurityTest {
  private static final String KEY = "sk-barista-3f9a1c77";
  private static final String MARKER = "private-body-text-5d21";

  @Test
  void theApiKeyAndRequestBodiesNeverReachTheLog() throws Exception {
    String log = captureLog(false);
    assertFalse(log.contains(KEY), "the API key is in the log:\n" + log);
    assertFalse(log.contains("wrong-key-8812"), "a rejected key is in the log:\n" + log);
    assertFalse(log.contains(MARKER), "a request body is in the log:\n" + log);
    assertTrue(log.contains("Finished request"), "the capture sees the server's log:\n" + log);
  }

  @Test
  void logRequestsBodiesLogsBodiesButStillNotTheKey() throws Exception {
    String log = captureLog(true);
    assertTrue(log.contains(MARKER), "--log-requests-bodies logs the body:\n" + log);
    assertFalse(log.contains(KEY), "the API key is in the log:\n" + log);
  }

  @Test
  void messageTextIsNeverRunAsTemplateCode() throws Exception {
    try (TinyServer s = new TinyServer()) {
      String code = "{{ 7*7 }}{% for i in range(3) %}x{% endfor %}";
      JsonNode tokens = TinyServer.json(s.post("/tokenize",
          "{\"messages\":[{\"role\":\"user\",\"content\":\"" + code + "\"}]}"));
      HttpResponse<String> text = s.post("/detokenize", "{\"tokens\":" + tokens.get("tokens") + "}");
      assertTrue(TinyServer.json(text).get("prompt").asText().contains(code), text.body());
    }
  }

  /** Everything logged, at debug level, while requests with the key (and one with a wrong key) are served. */
  private static String captureLog(boolean logBodies) throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Level level = root.getLevel();
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    root.addAppender(appender);
    root.setLevel(Level.DEBUG);
    try (TinyServer s = logBodies
        ? new TinyServer(true, "--api-key", KEY, "--log-requests-bodies") : new TinyServer(true, "--api-key", KEY)) {
      String auth = "Bearer " + KEY;
      String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + MARKER + "\"}],\"max_tokens\":3";
      assertEquals(200, send(s, s.request("/v1/chat/completions", chat + "}").header("Authorization", auth)));
      assertEquals(200, send(s, s.request("/v1/chat/completions", chat + ",\"unknown_field\":\"" + MARKER + "\"}")
          .header("Authorization", auth)), "a field barista does not read is ignored (its name logged, not its value)");
      assertEquals(200, send(s, s.request("/v1/completions", "{\"prompt\":\"" + MARKER + "\",\"max_tokens\":2,"
          + "\"stream\":true}").header("Authorization", auth)));
      assertEquals(200, send(s, s.request("/tokenize", "{\"prompt\":\"" + MARKER + "\"}")
          .header("Authorization", auth)));
      assertEquals(400, send(s, s.request("/v1/completions", "{\"prompt\":\"" + MARKER + "\",\"temperature\":-1}")
          .header("Authorization", auth)));
      assertEquals(401, send(s, s.request("/v1/completions", "{\"prompt\":\"" + MARKER + "\"}")
          .header("Authorization", "Bearer wrong-key-8812")));
    } finally {
      root.setLevel(level);
      root.detachAppender(appender);
    }
    return appender.list.stream()
        .map(e -> e.getFormattedMessage()
            + (e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy())))
        .collect(Collectors.joining("\n"));
  }

  private static int send(TinyServer s, HttpRequest.Builder request) throws Exception {
    return s.client.send(request.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }
}
