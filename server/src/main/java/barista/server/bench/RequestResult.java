package barista.server.bench;

import java.util.List;

/**
 * What one request measured, in seconds from when it was sent.
 *
 * @param ttft time to the first token; null when not streamed
 * @param interTokenLatencies the gaps between the chunks that brought new tokens
 */
record RequestResult(boolean success, String error, int promptTokens, int outputTokens, Double ttft,
    List<Double> interTokenLatencies, double latency) {

  static RequestResult failure(String error, double latency) {
    return new RequestResult(false, error, 0, 0, null, List.of(), latency);
  }

  /** Time per output token after the first, or null for fewer than two tokens or no TTFT. */
  Double timePerOutputToken() {
    return ttft == null || outputTokens < 2 ? null : (latency - ttft) / (outputTokens - 1);
  }
}
