package barista.scheduler;

import barista.engine.sampling.PromptLogprobs;
import java.util.List;

/**
 * The new part of one request's output after an engine step. {@code newText} is released only at UTF-8 character
 * boundaries and never contains a stop string (unless include_stop_str_in_output); the last output of a request
 * has a {@code finishReason}.
 *
 * @param logprobs one entry per new token when the request asked for logprobs, else empty
 * @param stopReason the stop string or stop token id that ended the request, else null
 * @param queuedNanos when the engine took the request ({@link System#nanoTime}), 0 when it never did
 * @param scheduledNanos when it was first scheduled, 0 when it never was (vLLM's queued_ts and scheduled_ts)
 * @param promptLogprobs the prompt's logprobs, on the request's first output when they were asked for; else null
 */
public record RequestOutput(
    String requestId,
    int[] newTokenIds,
    String newText,
    List<TokenLogprob> logprobs,
    FinishReason finishReason,
    Object stopReason,
    int promptTokens,
    int cachedPromptTokens,
    int completionTokens,
    long queuedNanos,
    long scheduledNanos,
    PromptLogprobs promptLogprobs) {

  public RequestOutput(String requestId, int[] newTokenIds, String newText, List<TokenLogprob> logprobs,
      FinishReason finishReason, Object stopReason, int promptTokens, int cachedPromptTokens, int completionTokens,
      long queuedNanos, long scheduledNanos) {
    this(requestId, newTokenIds, newText, logprobs, finishReason, stopReason, promptTokens, cachedPromptTokens,
        completionTokens, queuedNanos, scheduledNanos, null);
  }

  /** The last output of a request that was aborted (or never admitted): no new tokens, finish reason abort. */
  public static RequestOutput abort(String requestId, int promptTokens, int cachedPromptTokens, int completionTokens,
      long queuedNanos, long scheduledNanos) {
    return new RequestOutput(requestId, new int[0], "", List.of(), FinishReason.ABORT, null, promptTokens,
        cachedPromptTokens, completionTokens, queuedNanos, scheduledNanos);
  }

  public boolean finished() {
    return finishReason != null;
  }
}
