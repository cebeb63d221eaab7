package barista.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the events of one streamed completion or chat completion into token counts and timings. Token counts come
 * from the chunks' usage (stream_options continuous_usage_stats) where the server sends it, which is exact even
 * when one chunk carries several tokens or a token with no text; otherwise each chunk with text counts as one token.
 */
final class StreamMeter {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final long startNanos;
  private final List<Double> interTokenLatencies = new ArrayList<>();
  private long firstTokenNanos = -1;
  private long lastTokenNanos;
  private int outputTokens;
  private int promptTokens;
  private boolean done;
  private String error;

  StreamMeter(long startNanos) {
    this.startNanos = startNanos;
  }

  /** One event's data, received at {@code nanos} (System.nanoTime). */
  void onEvent(String data, long nanos) {
    if (done || error != null) return;
    if (data.equals("[DONE]")) {
      done = true;
      return;
    }
    JsonNode chunk;
    try {
      chunk = JSON.readTree(data);
    } catch (java.io.IOException e) {
      error = "unparsable event: " + BenchClient.abbreviate(data);
      return;
    }
    if (chunk.has("error")) {
      error = chunk.path("error").path("message").asText(chunk.get("error").toString());
      return;
    }
    JsonNode usage = chunk.get("usage");
    int newTokens;
    if (usage != null && usage.isObject()) {
      promptTokens = usage.path("prompt_tokens").asInt();
      newTokens = usage.path("completion_tokens").asInt() - outputTokens;
    } else {
      newTokens = hasText(chunk) ? 1 : 0;
    }
    if (newTokens <= 0) return;
    if (firstTokenNanos < 0) firstTokenNanos = nanos;
    else interTokenLatencies.add(seconds(nanos - lastTokenNanos));
    lastTokenNanos = nanos;
    outputTokens += newTokens;
  }

  /** The request's result when its stream ended at {@code endNanos}. */
  RequestResult result(long endNanos) {
    double latency = seconds(endNanos - startNanos);
    if (error != null) return RequestResult.failure(error, latency);
    if (!done) return RequestResult.failure("the stream ended without [DONE]", latency);
    Double ttft = firstTokenNanos < 0 ? null : seconds(firstTokenNanos - startNanos);
    return new RequestResult(true, null, promptTokens, outputTokens, ttft, List.copyOf(interTokenLatencies), latency);
  }

  private static boolean hasText(JsonNode chunk) {
    JsonNode choice = chunk.path("choices").path(0);
    JsonNode delta = choice.path("delta");
    return !choice.path("text").asText().isEmpty() || !delta.path("content").asText().isEmpty()
        || !delta.path("reasoning_content").asText().isEmpty();
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }
}
