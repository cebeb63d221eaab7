package barista.server.e2e;

import static barista.server.e2e.RealServer.body;
import static barista.server.e2e.RealServer.userSays;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The seed's client code asks for model "DeepSeek-R1-Distill-Qwen-1.5B" against a server launched with the repo id
 * (or a folder path): the last path segment of exactly one served name is that name; near misses stay 404.
 * (A launch with --model NAME serves under NAME, so --served-model-name NAME gives the same names here.)
 */
class ShortModelNameTest {
  private static final String SHORT = "DeepSeek-R1-Distill-Qwen-1.5B";

  private static String chat(String model) {
    return body("model", model, "messages", userSays("hi"), "max_tokens", 2);
  }

  @Test
  void theRepoIdsLastSegmentIsServedAsTheRepoIdAndLoggedOnce() throws Exception {
    String repoId = "deepseek-ai/" + SHORT;
    Logger logger = (Logger) LoggerFactory.getLogger("barista.server.endpoints.Requests");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try (RealServer server = RealServer.start("--served-model-name", repoId)) {
      JsonNode chat = server.postOk("/v1/chat/completions", chat(SHORT));
      assertEquals(repoId, chat.get("model").asText(), "the response names the served model");
      JsonNode completion = server.postOk("/v1/completions", body("model", SHORT, "prompt", "hi", "max_tokens", 2));
      assertEquals(repoId, completion.get("model").asText());
      assertEquals(repoId, server.postOk("/v1/chat/completions", chat(repoId)).get("model").asText());
      for (String nearMiss : new String[] {"DeepSeek-R1-Distill-Qwen-1.5", "deepseek-r1-distill-qwen-1.5b",
          "ai/" + SHORT, SHORT + "/", "deepseek-ai", ""}) {
        HttpResponse<String> response = server.post("/v1/chat/completions", chat(nearMiss));
        assertEquals(404, response.statusCode(), nearMiss + ": " + response.body());
      }
    } finally {
      logger.detachAppender(appender);
    }
    long lines = appender.list.stream().filter(e -> e.getFormattedMessage().contains("`" + SHORT + "`")).count();
    assertEquals(1, lines, "one log line the first time, none after");
  }

  @Test
  void aFolderPathsLastSegmentIsServedToo() throws Exception {
    try (RealServer server = RealServer.start("--served-model-name", "/models/" + SHORT + "/")) {
      assertEquals("/models/" + SHORT + "/", server.postOk("/v1/chat/completions", chat(SHORT)).get("model").asText());
    }
  }

  @Test
  void aShortNameOfTwoServedNamesIsAmbiguousAnd404() throws Exception {
    try (RealServer server = RealServer.start("--served-model-name", "a/" + SHORT, "b/" + SHORT)) {
      assertEquals(404, server.post("/v1/chat/completions", chat(SHORT)).statusCode());
      assertEquals("b/" + SHORT, server.postOk("/v1/chat/completions", chat("b/" + SHORT)).get("model").asText());
    }
  }
}
