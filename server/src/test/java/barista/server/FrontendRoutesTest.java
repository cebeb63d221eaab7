package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The playground and status page routes: what they serve, with which headers, behind which key, and when not. */
class FrontendRoutesTest {
  private static final Pattern LINK = Pattern.compile("(?:src|href)=\"([^\"]*)\"");

  @Test
  void pagesAndTheirFilesAreServedWithTypesAndAPolicyThatAllowsOnlyThisServer() throws Exception {
    try (TestServer server = new TestServer()) {
      for (String page : List.of("/", "/status")) {
        HttpResponse<String> response = server.get(page);
        assertEquals(200, response.statusCode(), page);
        assertEquals("text/html; charset=utf-8", response.headers().firstValue("content-type").orElseThrow());
        String policy = response.headers().firstValue("content-security-policy").orElseThrow();
        assertTrue(policy.startsWith("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"),
            policy);
        assertEquals("nosniff", response.headers().firstValue("x-content-type-options").orElseThrow());
        List<String> links = new ArrayList<>();
        Matcher m = LINK.matcher(response.body());
        while (m.find()) links.add(m.group(1));
        assertTrue(links.size() >= 4, links.toString());
        for (String link : links) {
          assertTrue(link.startsWith("/") && !link.startsWith("//"), "not this server's: " + link);
          HttpResponse<String> file = server.get(link);
          assertEquals(200, file.statusCode(), link);
          String type = file.headers().firstValue("content-type").orElseThrow();
          if (link.endsWith(".js")) assertEquals("text/javascript; charset=utf-8", type);
          if (link.endsWith(".css")) assertEquals("text/css; charset=utf-8", type);
          if (link.endsWith(".svg")) assertEquals("image/svg+xml", type);
        }
      }
      // Every script stays free of HTML insertion: output and errors go in as text.
      for (String script : List.of("/ui/playground.js", "/ui/status.js", "/ui/common.js")) {
        String body = server.get(script).body();
        for (String sink : List.of("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")) {
          assertFalse(body.contains(sink), script + " uses " + sink);
        }
      }
    }
  }

  @Test
  void statusDataHasTheEngineFiguresAndTheModel() throws Exception {
    try (TestServer server = new TestServer("--device", "cpu", "--max-num-seqs", "7")) {
      HttpResponse<String> response = server.get("/status/data");
      assertEquals(200, response.statusCode());
      JsonNode data = TestServer.json(response);
      // FakeEngine's fixed status: 3 running, 1 waiting, 75 of 100 blocks free, 7 preemptions.
      JsonNode engine = data.path("engine");
      assertEquals(List.of(3, 1, 100, 75, 7), List.of(engine.path("running").asInt(), engine.path("waiting").asInt(),
          engine.path("kv_blocks_total").asInt(), engine.path("kv_blocks_free").asInt(),
          engine.path("preemptions").asInt()), engine.toString());
      assertEquals(0.25, engine.path("kv_cache_usage").asDouble());
      assertEquals(0.0, data.path("tokens").path("generation").asDouble());
      assertEquals("fake-model", data.path("model").path("name").asText());
      assertEquals(7, data.path("model").path("max_num_seqs").asInt());
      assertEquals("float32", data.path("model").path("dtype").asText());
      assertFalse(data.has("gpus"), "no GPU figures on the CPU");
      server.post("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":3}");
      JsonNode after = TestServer.json(server.get("/status/data"));
      assertTrue(after.path("tokens").path("generation").asDouble() > 0, after.toString());
      assertTrue(after.path("time").asDouble() > data.path("time").asDouble());
    }
  }

  @Test
  void pagesStayOpenUnderAnApiKeyAndStatusDataIsGuardedLikeMetrics() throws Exception {
    try (TestServer server = new TestServer("--api-key", "s3cret")) {
      assertEquals(200, server.get("/").statusCode());
      assertEquals(200, server.get("/status").statusCode());
      assertEquals(200, server.get("/status/data").statusCode());
      assertEquals(401, server.get("/v1/models").statusCode());
    }
    try (TestServer server = new TestServer("--api-key", "s3cret", "--protect-metrics")) {
      assertEquals(200, server.get("/").statusCode());
      BadRequestTest.assertError(server.get("/status/data"), 401, "AuthenticationError", null);
      assertEquals(200, server.get("/status/data", "Authorization", "Bearer s3cret").statusCode());
    }
  }

  @Test
  void disableFrontendServesNoPages() throws Exception {
    try (TestServer server = new TestServer("--disable-frontend")) {
      for (String path : List.of("/", "/status", "/status/data", "/ui/playground.js")) {
        BadRequestTest.assertError(server.get(path), 404, "NotFoundError", null);
      }
      assertEquals(200, server.get("/v1/models").statusCode());
    }
  }
}
