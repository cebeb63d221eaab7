package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.server.model.Version;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Endpoints other than generation, and HTTP-level behaviour: overload, disconnects, HTTP/1.0, pipelining, limits. */
class HttpBehaviourTest {
  private static final String CHAT_BODY = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":3}";
  private static final String STREAM_BODY =
      "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":3,\"stream\":true}";
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer("--max-request-body-size", "4096");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void healthFollowsTheEngine() throws Exception {
    assertEquals(200, server.get("/health").statusCode());
    assertEquals(200, server.get("/ping").statusCode());
    server.engine.alive = false;
    try {
      HttpResponse<String> dead = server.get("/health");
      assertEquals(503, dead.statusCode());
      assertEquals("ServiceUnavailableError", TestServer.json(dead).get("error").get("type").asText());
    } finally {
      server.engine.alive = true;
    }
    server.engine.ready = false;
    try {
      assertEquals(503, server.get("/health").statusCode());
    } finally {
      server.engine.ready = true;
    }
  }

  @Test
  void modelsListsEveryServedName() throws Exception {
    JsonNode body = TestServer.json(server.get("/v1/models"));
    assertEquals("list", body.get("object").asText());
    assertEquals(2, body.get("data").size());
    JsonNode first = body.get("data").get(0);
    assertEquals("fake-model", first.get("id").asText());
    assertEquals("model", first.get("object").asText());
    assertEquals(TestServer.MAX_MODEL_LEN, first.get("max_model_len").asInt());
    assertEquals("alias", body.get("data").get(1).get("id").asText());
  }

  @Test
  void versionAndQueryStrings() throws Exception {
    assertEquals(Version.VERSION, TestServer.json(server.get("/version?x=1")).get("version").asText());
  }

  @Test
  void tokenizeAndDetokenizeRoundTrip() throws Exception {
    JsonNode tokens = TestServer.json(server.post("/tokenize", "{\"prompt\":\"Hey\",\"return_token_strs\":true}"));
    assertEquals(3, tokens.get("count").asInt());
    assertEquals(TestServer.MAX_MODEL_LEN, tokens.get("max_model_len").asInt());
    assertEquals("[72,101,121]", tokens.get("tokens").toString());
    assertEquals("[\"H\",\"e\",\"y\"]", tokens.get("token_strs").toString());
    JsonNode chat = TestServer.json(server.post("/tokenize",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"add_generation_prompt\":false}"));
    assertEquals("user: Hi\n".length(), chat.get("count").asInt());
    assertTrue(chat.get("token_strs").isNull());
    JsonNode text = TestServer.json(server.post("/detokenize", "{\"tokens\":[72,101,121]}"));
    assertEquals("Hey", text.get("prompt").asText());
  }

  @Test
  void overloadedEngineGets503WithRetryAfter() throws Exception {
    server.engine.overloaded = true;
    try {
      HttpResponse<String> response = server.post("/v1/chat/completions", STREAM_BODY);
      BadRequestTest.assertError(response, 503, "ServiceUnavailableError", null);
      assertEquals("1", response.headers().firstValue("retry-after").orElseThrow());
    } finally {
      server.engine.overloaded = false;
    }
    assertEquals(200, server.post("/v1/chat/completions", CHAT_BODY).statusCode());
  }

  @Test
  void bodyOverTheLimitIs413() throws Exception {
    String big = "{\"prompt\":\"" + "x".repeat(5000) + "\"}";
    HttpResponse<String> response = server.post("/v1/completions", big);
    BadRequestTest.assertError(response, 413, "RequestEntityTooLargeError", null);
    assertEquals(200, server.post("/v1/chat/completions", CHAT_BODY).statusCode());
  }

  @Test
  void headerBlockOver64KiBIs431() throws Exception {
    try (RawHttp raw = new RawHttp(server.server.port())) {
      raw.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(70 * 1024) + "\r\n\r\n");
      String response = raw.readToEnd();
      assertTrue(response.startsWith("HTTP/1.1 431"), response);
      assertTrue(response.contains("\"type\":\"RequestHeaderFieldsTooLargeError\""), response);
    }
    assertEquals(200, server.get("/health").statusCode());
  }

  @Test
  void http10GetsAResponseAndTheConnectionCloses() throws Exception {
    try (RawHttp raw = new RawHttp(server.server.port())) {
      raw.send(RawHttp.post("HTTP/1.0", "/v1/chat/completions", CHAT_BODY, ""));
      String response = raw.readToEnd();
      assertTrue(response.startsWith("HTTP/1.0 200"), response);
      assertTrue(response.contains("\"content\":\"Hel\""), response);
    }
    try (RawHttp raw = new RawHttp(server.server.port())) {
      raw.send(RawHttp.post("HTTP/1.0", "/v1/chat/completions", STREAM_BODY, ""));
      String response = raw.readToEnd();
      assertTrue(response.startsWith("HTTP/1.0 200"), response);
      assertFalse(response.toLowerCase().contains("transfer-encoding"), "no chunked encoding in HTTP/1.0");
      assertTrue(response.endsWith("data: [DONE]\n\n"), response);
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    try (RawHttp raw = new RawHttp(server.server.port())) {
      raw.send(RawHttp.post("HTTP/1.1", "/v1/chat/completions", STREAM_BODY, "")
          + "GET /version HTTP/1.1\r\nHost: x\r\n\r\n"
          + RawHttp.post("HTTP/1.1", "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2}", "Connection: close\r\n"));
      String all = raw.readToEnd();
      int stream = all.indexOf("data: [DONE]");
      int version = all.indexOf("\"version\"");
      int completion = all.indexOf("\"text_completion\"");
      assertTrue(stream > 0 && version > stream && completion > version, all);
      assertEquals(3, all.split("HTTP/1.1 200 OK").length - 1, all);
    }
  }

  @Test
  void clientDisconnectMidStreamAbortsTheRequest() throws Exception {
    server.engine.reply = FakeEngine.FOREVER;
    try (RawHttp raw = new RawHttp(server.server.port())) {
      raw.send(RawHttp.post("HTTP/1.1", "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":200,\"stream\":true}",
          ""));
      String start = raw.readUntil("\"text\":\"x\"");
      Matcher id = Pattern.compile("\"id\":\"(cmpl-[0-9a-f]+)\"").matcher(start);
      assertTrue(id.find(), start);
      raw.hangUp();
      assertEquals(id.group(1) + "-0", server.engine.abortFuture(id.group(1) + "-0").get(10, TimeUnit.SECONDS));
    } finally {
      server.engine.reply = "Hello world";
    }
    assertEquals(200, server.post("/v1/chat/completions", CHAT_BODY).statusCode());
  }

  @Test
  void clientDisconnectBeforeTheResponseAbortsEveryChoice() throws Exception {
    server.engine.reply = FakeEngine.FOREVER;
    server.engine.arrivals.clear();
    try (RawHttp raw = new RawHttp(server.server.port())) {
      raw.send(RawHttp.post("HTTP/1.1", "/v1/chat/completions", CHAT_BODY.replace("3}", "200,\"n\":2}"), ""));
      String first = server.engine.arrivals.poll(10, TimeUnit.SECONDS).requestId();
      String second = server.engine.arrivals.poll(10, TimeUnit.SECONDS).requestId();
      raw.hangUp();
      server.engine.abortFuture(first).get(10, TimeUnit.SECONDS);
      server.engine.abortFuture(second).get(10, TimeUnit.SECONDS);
    } finally {
      server.engine.reply = "Hello world";
    }
  }

  @Test
  void requestTimeoutAbortsWithFinishReasonAbort() throws Exception {
    try (TestServer timed = new TestServer("--request-timeout", "0.2")) {
      timed.engine.reply = FakeEngine.FOREVER;
      JsonNode body = TestServer.json(timed.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":200}"));
      JsonNode choice = body.get("choices").get(0);
      assertEquals("abort", choice.get("finish_reason").asText());
      assertTrue(timed.engine.abortFuture(body.get("id").asText() + "-0").isDone());
      assertEquals(0, timed.server.activeRequests());
    }
  }
}
