package barista.server;

import barista.server.http.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests the server sends itself before it takes clients (serve's {@code --warmup-seconds}), over loopback
 * through the whole path a client's request takes: HTTP and JSON, the chat template, the tokenizer, the engine's
 * steps and sampler (greedy and sampled), the detokenizer and SSE. A JVM runs that code interpreted at first, and
 * lazy initializations wait for a first caller: without this, the first clients after a start or restart pay for it
 * (docs/performance.md). Rounds of concurrent requests, as clients send them, until the rounds or the time run out;
 * the last is wide, the deployment guide's burst of sampled chats (up to {@link #WIDE} at once), so steps of that many
 * sampled rows have run once, their device memory taken from the allocator, before the first real burst comes.
 * A failure is logged and never stops the start.
 */
final class StartupWarmup {
  private static final Logger log = LoggerFactory.getLogger(StartupWarmup.class);
  static final int ROUNDS = 4;
  static final int CONCURRENCY = 8;
  /** The last round's requests at most (the 32-user preset's burst); fewer where --max-num-seqs is lower. */
  static final int WIDE = 32;
  private static final int MAX_TOKENS = 16;

  private StartupWarmup() {}

  /** The rounds' outcome: requests sent, answered 200, and how long it took. */
  record Result(int sent, int succeeded, long millis) {}

  /**
   * Sends rounds of {@link #CONCURRENCY} requests to {@code port} on 127.0.0.1, each round after the last has ended,
   * the last one {@code wide} sampled chats instead, until {@link #ROUNDS} rounds or {@code seconds} have passed (a
   * round started is finished, within a bound).
   */
  static Result run(int port, String model, String apiKey, double seconds, int wide) {
    long start = System.nanoTime();
    long deadline = start + (long) (seconds * 1e9);
    int sent = 0, succeeded = 0;
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    try {
      for (int round = 0; round < ROUNDS && System.nanoTime() < deadline; round++) {
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        boolean last = round == ROUNDS - 1;
        for (int i = 0; i < (last ? wide : CONCURRENCY); i++) {
          HttpRequest request = last ? wideRequest(port, model, apiKey, i) : request(port, model, apiKey, round, i);
          answers.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
          sent++;
        }
        for (CompletableFuture<HttpResponse<String>> answer : answers) {
          try {
            HttpResponse<String> r = answer.get(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime()))
                + 30, TimeUnit.SECONDS);
            if (r.statusCode() == 200) {
              succeeded++;
            } else {
              log.debug("Warm-up request answered {}: {}", r.statusCode(), r.body());
            }
          } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            log.debug("Warm-up request failed: {}", e.toString());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return new Result(sent, succeeded, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  /**
   * Request {@code i} of a round: chat (streamed and not, sampled as the deployment guide's client asks and greedy)
   * and completions (streamed and not), with prompts in English and Chinese.
   */
  static HttpRequest request(int port, String model, String apiKey, int round, int i) {
    String text = (i % 2 == 0 ? "Explain Newton's first law, briefly. " : "解释牛顿第一定律。") + "(" + round + "." + i + ")";
    ObjectNode body = Json.object().put("model", model);
    String path;
    if (i % 8 < 6) {
      path = "/v1/chat/completions";
      body.putArray("messages").addObject().put("role", "user").put("content", text);
    } else {
      path = "/v1/completions";
      body.put("prompt", text);
    }
    body.put("max_tokens", MAX_TOKENS).put("stream", i % 4 < 2);
    if (i % 3 == 0) {
      body.put("temperature", 0.7).put("top_p", 0.95);
    } else {
      body.put("temperature", 0);
    }
    return post(port, path, body, apiKey, "warmup-" + round + "-" + i);
  }

  /** Request {@code i} of the wide round: a chat sampled as the deployment guide's client asks, streamed or not. */
  static HttpRequest wideRequest(int port, String model, String apiKey, int i) {
    ObjectNode body = Json.object().put("model", model);
    body.putArray("messages").addObject().put("role", "user").put("content", "Tell me a short story. (" + i + ")");
    body.put("max_tokens", MAX_TOKENS).put("stream", i % 2 == 0).put("temperature", 0.7).put("top_p", 0.95);
    return post(port, "/v1/chat/completions", body, apiKey, "warmup-wide-" + i);
  }

  private static HttpRequest post(int port, String path, ObjectNode body, String apiKey, String id) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .header("X-Request-Id", id)
        .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
    return b.build();
  }
}
