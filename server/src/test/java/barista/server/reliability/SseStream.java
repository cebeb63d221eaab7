package barista.server.reliability;

import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A streaming request read on its own thread: wait for its first token, then for its end. */
final class SseStream {
  private final CountDownLatch firstToken = new CountDownLatch(1);
  private final CompletableFuture<List<String>> events = new CompletableFuture<>();

  /** Starts the request; its events ("data:" payloads, [DONE] included) arrive in the background. */
  SseStream(HttpClient client, URI uri, String json) {
    HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(120)).POST(HttpRequest.BodyPublishers.ofString(json)).build();
    Thread reader = new Thread(() -> {
      try {
        HttpResponse<java.util.stream.Stream<String>> response =
            client.send(request, HttpResponse.BodyHandlers.ofLines());
        if (response.statusCode() != 200) throw new AssertionError("status " + response.statusCode());
        List<String> data = new ArrayList<>();
        for (Iterator<String> lines = response.body().iterator(); lines.hasNext(); ) {
          String line = lines.next();
          if (!line.startsWith("data: ")) continue;
          data.add(line.substring("data: ".length()));
          if (data.size() > 1) firstToken.countDown(); // the first chunk only opens the message
        }
        events.complete(data);
      } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
        events.completeExceptionally(e);
      } finally {
        firstToken.countDown();
      }
    }, "sse-reader");
    reader.setDaemon(true);
    reader.start();
  }

  void awaitFirstToken() throws InterruptedException {
    if (!firstToken.await(60, TimeUnit.SECONDS)) throw new AssertionError("no token within 60 s");
  }

  /** Every event, [DONE] last; fails when the stream does not end properly. */
  List<String> awaitEnd(Duration timeout) throws Exception {
    List<String> data = events.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (data.isEmpty() || !data.get(data.size() - 1).equals("[DONE]")) {
      throw new AssertionError("the stream did not end with [DONE]: " + data);
    }
    return data;
  }

  /** The finish_reason of the stream's one choice. */
  static String finishReason(List<String> events) throws IOException {
    String reason = null;
    for (String e : events.subList(0, events.size() - 1)) {
      JsonNode choices = Json.MAPPER.readTree(e).get("choices");
      for (JsonNode c : choices) {
        if (c.hasNonNull("finish_reason")) reason = c.get("finish_reason").asText();
      }
    }
    return reason;
  }
}
