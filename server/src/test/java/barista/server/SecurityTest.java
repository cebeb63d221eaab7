package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** --api-key, --protect-metrics and --allowed-origins. */
class SecurityTest {

  @Test
  void apiKeyGuardsTheApiButNotHealthVersionOrMetrics() throws Exception {
    try (TestServer server = new TestServer("--api-key", "s3cret")) {
      BadRequestTest.assertError(server.get("/v1/models"), 401, "AuthenticationError", null);
      BadRequestTest.assertError(server.get("/v1/models", "Authorization", "Bearer wrong"), 401,
          "AuthenticationError", null);
      BadRequestTest.assertError(server.get("/v1/models", "Authorization", "s3cret"), 401, "AuthenticationError",
          null);
      assertEquals(200, server.get("/v1/models", "Authorization", "Bearer s3cret").statusCode());
      BadRequestTest.assertError(server.post("/tokenize", "{\"prompt\":\"a\"}"), 401, "AuthenticationError", null);
      BadRequestTest.assertError(server.post("/detokenize", "{\"tokens\":[97]}"), 401, "AuthenticationError", null);
      BadRequestTest.assertError(server.post("/v1/completions", "{\"prompt\":\"a\"}"), 401, "AuthenticationError",
          null);
      assertEquals(200, server.post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1}",
          "Authorization", "Bearer s3cret").statusCode());
      assertEquals(200, server.get("/health").statusCode());
      assertEquals(200, server.get("/ping").statusCode());
      assertEquals(200, server.get("/version").statusCode());
      assertEquals(200, server.get("/metrics").statusCode());
    }
  }

  @Test
  void protectMetricsPutsMetricsBehindTheKey() throws Exception {
    try (TestServer server = new TestServer("--api-key", "s3cret", "--protect-metrics")) {
      BadRequestTest.assertError(server.get("/metrics"), 401, "AuthenticationError", null);
      assertEquals(200, server.get("/metrics", "Authorization", "Bearer s3cret").statusCode());
    }
  }

  @Test
  void corsIsOffByDefault() throws Exception {
    try (TestServer server = new TestServer()) {
      HttpResponse<String> preflight = preflight(server, "http://app.example");
      assertEquals(405, preflight.statusCode());
      HttpResponse<String> get = server.get("/v1/models", "Origin", "http://app.example");
      assertTrue(get.headers().firstValue("access-control-allow-origin").isEmpty());
    }
  }

  @Test
  void corsAllowsTheGivenOriginsOnly() throws Exception {
    try (TestServer server = new TestServer("--allowed-origins", "[\"http://app.example\"]", "--api-key", "k")) {
      HttpResponse<String> preflight = preflight(server, "http://app.example");
      assertEquals(204, preflight.statusCode(), "a preflight needs no API key");
      assertEquals("http://app.example", preflight.headers().firstValue("access-control-allow-origin").orElseThrow());
      assertEquals("authorization,content-type,x-stainless-os",
          preflight.headers().firstValue("access-control-allow-headers").orElseThrow());
      assertTrue(preflight.headers().firstValue("access-control-allow-methods").orElseThrow().contains("POST"));
      HttpResponse<String> get = server.get("/v1/models", "Origin", "http://app.example", "Authorization", "Bearer k");
      assertEquals("http://app.example", get.headers().firstValue("access-control-allow-origin").orElseThrow());
      HttpResponse<String> other = server.get("/v1/models", "Origin", "http://evil.example", "Authorization",
          "Bearer k");
      assertTrue(other.headers().firstValue("access-control-allow-origin").isEmpty());
      assertTrue(preflight(server, "http://evil.example").headers().firstValue("access-control-allow-origin")
          .isEmpty());
    }
  }

  private static HttpResponse<String> preflight(TestServer server, String origin) throws Exception {
    return server.client.send(HttpRequest.newBuilder(server.uri("/v1/chat/completions"))
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization,content-type,x-stainless-os").build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
