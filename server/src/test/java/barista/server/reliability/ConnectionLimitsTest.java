package barista.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.server.http.ConnectionLimits;
import barista.server.http.Json;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The connection layer against hostile or broken clients, on the real server and engine: --timeout-keep-alive,
 * --request-read-timeout, --max-connections, --max-pending-body-bytes, the Expect path, and hang-ups in the
 * middle of a request (not counted in http_requests_total). Timeouts are a fraction of a second so this runs fast.
 */
class ConnectionLimitsTest {
  private static final String HEALTH = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
  private static final String COMPLETION = "{\"prompt\":\"hi\",\"max_tokens\":2}";

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterTheTimeout() throws Exception {
    try (TinyServer s = new TinyServer("--timeout-keep-alive", "0.5", "--request-read-timeout", "30");
        RawConnection used = new RawConnection(s.port());
        RawConnection silent = new RawConnection(s.port())) {
      long start = System.nanoTime();
      assertTrue(used.send(HEALTH).readUntil("\r\n\r\n", 1).startsWith("HTTP/1.1 200"));
      String all = used.readToEnd();
      assertEquals(1, all.split("HTTP/1.1 ", -1).length - 1, "closed after the one response: " + all);
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(seconds >= 0.45 && seconds < 10, "closed after " + seconds + " s");
      assertEquals("", silent.readToEnd(), "a connection that never sends is idle too");
      TinyServer.await("both are counted out", Duration.ofSeconds(5),
          () -> s.server.connections().openConnections() == 0);
    }
  }

  @Test
  void halfSentHeadersAndHalfSentBodiesGet408ThenClose() throws Exception {
    try (TinyServer s = new TinyServer("--request-read-timeout", "1", "--timeout-keep-alive", "30");
        RawConnection header = new RawConnection(s.port());
        RawConnection body = new RawConnection(s.port());
        RawConnection trickle = new RawConnection(s.port())) {
      long start = System.nanoTime();
      header.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Ty");
      body.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: 100\r\n\r\n{\"prompt\":");
      // A header line every 100 ms for up to 6 s: the timeout counts from the request's first byte, so this
      // slow client is cut after 1 s too (a timeout that restarts on every read would never fire).
      trickle.send("POST /v1/completions HTTP/1.1\r\n");
      Thread trickling = new Thread(() -> {
        try {
          for (int i = 0; i < 60; i++) {
            Thread.sleep(100); // the slow client's pace, not synchronization
            trickle.send("X-Slow-" + i + ": 1\r\n");
          }
        } catch (IOException | InterruptedException closedByServer) {
          // expected once the 408 has closed the connection
        }
      }, "trickle");
      trickling.setDaemon(true);
      trickling.start();
      for (RawConnection c : List.of(header, body, trickle)) {
        Answer answer = Answer.parse(c.readToEnd());
        assertEquals(408, answer.status, answer.raw);
        assertEquals("close", answer.header("connection"), answer.raw);
        assertEquals("RequestTimeoutError", answer.json.get("error").get("type").asText());
        assertEquals(408, answer.json.get("error").get("code").asInt());
        assertTrue(answer.json.get("error").get("message").asText().contains("--request-read-timeout"));
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(seconds >= 0.95 && seconds < 4, "all three answered after " + seconds + " s");
      trickling.join(10_000);
      assertEquals(200, s.post("/v1/completions", COMPLETION).statusCode(), "and the server serves on");
    }
  }

  @Test
  void aStreamLongerThanBothTimeoutsCompletes() throws Exception {
    try (TinyServer s = new TinyServer("--timeout-keep-alive", "0.1", "--request-read-timeout", "0.1")) {
      long start = System.nanoTime();
      SseStream stream = new SseStream(s.client, s.uri("/v1/completions"),
          "{\"prompt\":\"long\",\"max_tokens\":3000,\"ignore_eos\":true,\"stream\":true}");
      List<String> events = stream.awaitEnd(Duration.ofSeconds(120));
      double seconds = (System.nanoTime() - start) / 1e9;
      assertEquals("length", SseStream.finishReason(events));
      assertTrue(seconds > 0.5, "the stream ran " + seconds + " s, more than 5 times either timeout");
      // A whole (non-streamed) long generation is not idle either. A client of its own, so it opens a new
      // connection instead of reusing the stream's, which the server closes 0.1 s after the stream ended.
      HttpResponse<String> whole = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
          s.request("/v1/completions", "{\"prompt\":\"long\",\"max_tokens\":1500,\"ignore_eos\":true}").build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, whole.statusCode(), whole.body());
      assertEquals(1500, TinyServer.json(whole).get("usage").get("completion_tokens").asInt());
    }
  }

  @Test
  void connectionsBeyondTheCapGet503JsonWhileAnInCapClientIsServed() throws Exception {
    ListAppender<ILoggingEvent> log = capture();
    try (TinyServer s = new TinyServer("--max-connections", "2");
        RawConnection inCap = new RawConnection(s.port());
        RawConnection holder = new RawConnection(s.port())) {
      assertTrue(inCap.send(HEALTH).readUntil("\r\n\r\n", 1).startsWith("HTTP/1.1 200"));
      holder.send("POST /v1/completions HTTP/1.1\r\n"); // half a request: holds the second slot
      TinyServer.await("two connections are open", Duration.ofSeconds(5),
          () -> s.server.connections().openConnections() == 2);
      for (int i = 0; i < 6; i++) {
        try (RawConnection beyond = new RawConnection(s.port())) {
          // Half of them send a whole request first, as a real client does; the answer must still arrive.
          if (i % 2 == 0) beyond.post("/v1/completions", COMPLETION);
          Answer answer = Answer.parse(beyond.readToEnd());
          assertEquals(503, answer.status, answer.raw);
          assertEquals("1", answer.header("retry-after"));
          assertEquals("ServiceUnavailableError", answer.json.get("error").get("type").asText());
          assertTrue(answer.json.get("error").get("message").asText().contains("--max-connections 2"));
        }
      }
      inCap.post("/v1/completions", COMPLETION);
      String second = inCap.readUntil("\r\n\r\n", 2);
      assertTrue(second.substring(second.indexOf("\r\n\r\n") + 4).contains("HTTP/1.1 200"), second);
      assertEquals(2, s.server.connections().openConnections());
      long warnings = log.list.stream().filter(e -> e.getFormattedMessage().contains("--max-connections")).count();
      assertEquals(1, warnings, "six refusals in a few seconds make one log line: " + log.list);
      holder.close();
      TinyServer.await("the slot is free", Duration.ofSeconds(5),
          () -> s.server.connections().openConnections() == 1);
      assertEquals(200, s.post("/v1/completions", COMPLETION).statusCode(), "a new connection is served again");
    } finally {
      release(log);
    }
  }

  @Test
  void theBodyBudgetAnswers503AndTheServerServesOn() throws Exception {
    ListAppender<ILoggingEvent> log = capture();
    try (TinyServer s = new TinyServer("--max-request-body-size", "4096", "--max-pending-body-bytes", "10000");
        RawConnection first = new RawConnection(s.port());
        RawConnection second = new RawConnection(s.port());
        RawConnection declared = new RawConnection(s.port());
        RawConnection chunked = new RawConnection(s.port())) {
      String body = COMPLETION + " ".repeat(4000 - COMPLETION.length()); // trailing blanks are valid JSON
      String head = "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: 4000\r\n\r\n";
      first.send(head + body.substring(0, 3000));
      second.send(head + body.substring(0, 3000));
      // The budget counts the buffers' capacity, which grows with the bytes up to the declared 4000 each.
      TinyServer.await("two bodies of 4000 are pending", Duration.ofSeconds(5),
          () -> s.server.connections().pendingBodyBytes() == 8000);
      // Its declared 4000 bytes cannot fit beside the 8000: refused before any of it is sent.
      Answer refused = Answer.parse(declared.send(head).readToEnd());
      assertEquals(503, refused.status, refused.raw);
      assertEquals("1", refused.header("retry-after"));
      assertEquals("ServiceUnavailableError", refused.json.get("error").get("type").asText());
      assertTrue(refused.json.get("error").get("message").asText().contains("--max-pending-body-bytes 10000"));
      // Without a length it is refused at the chunk that goes over (the buffer grows 512, 1024, 2048).
      chunked.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n");
      for (int i = 0; i < 3; i++) chunked.send("1f4\r\n" + " ".repeat(500) + "\r\n");
      assertEquals(503, Answer.parse(chunked.readToEnd()).status);
      assertEquals(8000, s.server.connections().pendingBodyBytes(), "the refused bytes were given back");
      // The held requests complete normally.
      first.send(body.substring(3000));
      String completed = first.readUntil("\r\n\r\n", 1);
      assertTrue(completed.startsWith("HTTP/1.1 200"), completed);
      second.close();
      TinyServer.await("no body is pending", Duration.ofSeconds(5),
          () -> s.server.connections().pendingBodyBytes() == 0);
      assertEquals(200, s.post("/v1/completions", COMPLETION).statusCode());
      long warnings = log.list.stream()
          .filter(e -> e.getFormattedMessage().contains("--max-pending-body-bytes")).count();
      assertEquals(1, warnings, "the refusals are logged, rate-limited to one line: " + log.list);
    } finally {
      release(log);
    }
  }

  @Test
  void chunkedBodiesAreAggregatedAndAnOversizedOneGets413() throws Exception {
    try (TinyServer s = new TinyServer("--max-request-body-size", "4096");
        RawConnection fine = new RawConnection(s.port());
        RawConnection large = new RawConnection(s.port());
        RawConnection oneLargeChunk = new RawConnection(s.port())) {
      String head = "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n";
      String half = COMPLETION.substring(0, 10);
      String rest = COMPLETION.substring(10);
      fine.send(head + Integer.toHexString(half.length()) + "\r\n" + half + "\r\n"
          + Integer.toHexString(rest.length()) + "\r\n" + rest + "\r\n0\r\n\r\n");
      assertTrue(fine.readUntil("\r\n\r\n", 1).startsWith("HTTP/1.1 200"));
      large.send(head);
      for (int i = 0; i < 3; i++) large.send("7d0\r\n" + " ".repeat(2000) + "\r\n");
      Answer tooLarge = Answer.parse(large.readToEnd());
      assertEquals(413, tooLarge.status, tooLarge.raw);
      assertEquals("RequestEntityTooLargeError", tooLarge.json.get("error").get("type").asText());
      Answer firstChunkTooLarge = Answer.parse(oneLargeChunk.send(head + "1388\r\n" + " ".repeat(5000) + "\r\n")
          .readToEnd());
      assertEquals(413, firstChunkTooLarge.status, firstChunkTooLarge.raw);
      TinyServer.await("no body is pending", Duration.ofSeconds(5),
          () -> s.server.connections().pendingBodyBytes() == 0);
    }
  }

  @Test
  void theExpectAnswersAreJson() throws Exception {
    try (TinyServer s = new TinyServer("--max-request-body-size", "1000");
        RawConnection tooLarge = new RawConnection(s.port());
        RawConnection unknown = new RawConnection(s.port());
        RawConnection fine = new RawConnection(s.port())) {
      String head = "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
      Answer large = Answer.parse(tooLarge.send(head + "Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
          .readToEnd());
      assertEquals(413, large.status, large.raw);
      assertEquals("RequestEntityTooLargeError", large.json.get("error").get("type").asText());
      assertEquals(413, large.json.get("error").get("code").asInt());
      Answer odd = Answer.parse(unknown.send(head + "Content-Length: 10\r\nExpect: something-else\r\n\r\n")
          .readToEnd());
      assertEquals(417, odd.status, odd.raw);
      assertEquals("ExpectationFailedError", odd.json.get("error").get("type").asText());
      assertTrue(odd.json.get("error").get("message").asText().contains("something-else"));
      // 100-continue within the limit: 100 first, then the answer to the body.
      int length = COMPLETION.length();
      String interim = fine.send(head + "Content-Length: " + length + "\r\nExpect: 100-continue\r\n\r\n")
          .readUntil("\r\n\r\n", 1);
      assertTrue(interim.startsWith("HTTP/1.1 100"), interim);
      fine.send(COMPLETION);
      assertTrue(fine.readUntil("\r\n\r\n", 2).contains("HTTP/1.1 200"));
    }
  }

  @Test
  void aMalformedContentLengthGets400NotASilentClose() throws Exception {
    try (TinyServer s = new TinyServer(); RawConnection c = new RawConnection(s.port())) {
      Answer answer = Answer.parse(c.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\n"
          + "Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}").readToEnd());
      assertEquals(400, answer.status, answer.raw);
      assertEquals("BadRequestError", answer.json.get("error").get("type").asText());
    }
  }

  @Test
  void hangUpsBeforeTheRequestIsCompleteAreNotCountedAsResponses() throws Exception {
    try (TinyServer s = new TinyServer()) {
      try (RawConnection served = new RawConnection(s.port())) {
        assertTrue(served.post("/v1/completions", COMPLETION).readUntil("\r\n\r\n", 1).startsWith("HTTP/1.1 200"));
      }
      TinyServer.await("the served connection is closed", Duration.ofSeconds(5),
          () -> s.server.connections().openConnections() == 0);
      for (int i = 0; i < 10; i++) {
        try (RawConnection c = new RawConnection(s.port())) {
          c.send(i % 2 == 0 ? "POST /v1/completions HTTP/1.1\r\nHost: loc"
              : "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50\r\n\r\n{\"pro");
        }
      }
      TinyServer.await("every hang-up is closed", Duration.ofSeconds(5),
          () -> s.server.connections().openConnections() == 0 && s.server.connections().pendingBodyBytes() == 0);
      assertEquals(1.0, requestsCounted(s), "only the one answered request is counted (a scrape counts after it)");
    }
  }

  /** The sum of every http_requests_total series. */
  private static double requestsCounted(TinyServer s) throws Exception {
    Matcher m = Pattern.compile("(?m)^http_requests_total\\{[^}]*\\} (\\S+)$").matcher(s.get("/metrics").body());
    double sum = 0;
    while (m.find()) sum += Double.parseDouble(m.group(1));
    return sum;
  }

  private static ListAppender<ILoggingEvent> capture() {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    ((Logger) LoggerFactory.getLogger(ConnectionLimits.class)).addAppender(appender);
    return appender;
  }

  private static void release(ListAppender<ILoggingEvent> appender) {
    ((Logger) LoggerFactory.getLogger(ConnectionLimits.class)).detachAppender(appender);
  }

  /** One plain (not chunked) HTTP response as read from a socket. */
  private record Answer(String raw, int status, List<String> headers, JsonNode json) {
    static Answer parse(String raw) throws IOException {
      int end = raw.indexOf("\r\n\r\n");
      if (end < 0) throw new AssertionError("no complete response: '" + raw + "'");
      String[] lines = raw.substring(0, end).split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      List<String> headers = new ArrayList<>(List.of(lines).subList(1, lines.length));
      String body = raw.substring(end + 4);
      return new Answer(raw, status, headers, body.isEmpty() ? null : Json.MAPPER.readTree(body));
    }

    String header(String name) {
      for (String h : headers) {
        int colon = h.indexOf(':');
        if (h.substring(0, colon).equalsIgnoreCase(name)) return h.substring(colon + 1).strip();
      }
      return null;
    }
  }
}
