package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input cases whose answer depends on the real model (its vocabulary, tokenizer, chat template and
 * context length) against the real engine: each gets its 400 and error body, then a good request still succeeds.
 * The full catalogue over a fake engine is barista.server.BadRequestTest.
 */
class RealEngineBadInputTest {
  private static final String CHAT = "/v1/chat/completions";
  private static final String COMPLETIONS = "/v1/completions";
  private static final String USER = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
  private static TinyServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TinyServer();
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  static Stream<Arguments> cases() {
    String big = "word ".repeat(TinyServer.MAX_MODEL_LEN + 100);
    return Stream.of(
        Arguments.of("prompt token id outside the vocabulary", COMPLETIONS, "{\"prompt\":[1,999999]}", "prompt"),
        Arguments.of("negative prompt token id", COMPLETIONS, "{\"prompt\":[-3]}", "prompt"),
        Arguments.of("prompt over --max-model-len", COMPLETIONS, "{\"prompt\":\"" + big + "\"}", "prompt"),
        Arguments.of("messages over --max-model-len", CHAT,
            "{\"messages\":[{\"role\":\"user\",\"content\":\"" + big + "\"}]}", "messages"),
        Arguments.of("max_tokens over the context", CHAT,
            "{" + USER + ",\"max_tokens\":" + TinyServer.MAX_MODEL_LEN + "}", "max_tokens"),
        Arguments.of("n over 128", CHAT, "{" + USER + ",\"n\":129}", "n"),
        Arguments.of("logprobs over --max-logprobs", COMPLETIONS, "{\"prompt\":\"x\",\"logprobs\":21}", "logprobs"),
        Arguments.of("image part", CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
            + "\"text\":\"a\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}}]}]}",
            "messages[0].content[1]"),
        Arguments.of("stop with 17 strings", CHAT, "{" + USER + ",\"stop\":[" + "\"s\",".repeat(16) + "\"t\"]}",
            "stop"),
        Arguments.of("detokenize ids outside the vocabulary", "/detokenize", "{\"tokens\":[999999]}", "tokens"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void answers400ThenServesAGoodRequest(String name, String path, String body, String param) throws Exception {
    assertBadRequest(server.post(path, body), param);
    assertGoodRequestStillWorks();
  }

  @ParameterizedTest(name = "invalid UTF-8 in {0}")
  @MethodSource("paths")
  void invalidUtf8Is400(String path) throws Exception {
    byte[] body = "{\"prompt\":\"ab\",\"messages\":[{\"role\":\"user\",\"content\":\"ab\"}]}"
        .getBytes(StandardCharsets.UTF_8);
    body[11] = (byte) 0xC3; // a lead byte followed by an ASCII byte
    assertBadRequest(server.client.send(HttpRequest.newBuilder(server.uri(path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString()), null);
    assertGoodRequestStillWorks();
  }

  static Stream<String> paths() {
    return Stream.of(CHAT, COMPLETIONS, "/tokenize");
  }

  private static void assertBadRequest(HttpResponse<String> response, String param) throws Exception {
    assertEquals(400, response.statusCode(), response.body());
    JsonNode error = TinyServer.json(response).get("error");
    assertEquals("BadRequestError", error.get("type").asText(), response.body());
    assertEquals(400, error.get("code").asInt());
    assertFalse(error.get("message").asText().isBlank());
    if (param == null) {
      assertTrue(error.get("param").isNull(), response.body());
    } else {
      assertEquals(param, error.get("param").asText(), response.body());
    }
  }

  private static void assertGoodRequestStillWorks() throws Exception {
    HttpResponse<String> good = server.post(CHAT, "{" + USER + ",\"max_tokens\":2}");
    assertEquals(200, good.statusCode(), good.body());
  }
}
