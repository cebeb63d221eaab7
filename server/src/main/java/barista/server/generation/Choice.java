package barista.server.generation;

import barista.engine.sampling.PromptLogprobs;
import barista.scheduler.FinishReason;
import barista.scheduler.RequestOutput;
import barista.scheduler.TokenLogprob;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One choice of a response, fed by the outputs of its own engine request. Subclasses shape it as chat or
 * completion; this class keeps what both need (counts, finish and timing).
 */
abstract class Choice {
  int index; // numbered again when best_of keeps only some candidates
  final int promptIndex;
  final String engineRequestId;
  final int promptTokens;
  int cachedPromptTokens;
  int completionTokens;
  double cumulativeLogprob; // of the sampled tokens whose logprobs were computed (every one, under best_of)
  int reasoningTokens; // chat under a reasoning parser: completion tokens before </think>
  FinishReason finishReason;
  Object stopReason;
  long firstTokenNanos;
  long lastTokenNanos;
  PromptLogprobs promptLogprobs; // from the first output, when they were asked for

  Choice(int index, int promptIndex, String engineRequestId, int promptTokens) {
    this.index = index;
    this.promptIndex = promptIndex;
    this.engineRequestId = engineRequestId;
    this.promptTokens = promptTokens;
  }

  boolean finished() {
    return finishReason != null;
  }

  /** Records an output's counts and finish; the text goes to {@link #streamDelta} or {@link #accumulate}. */
  void record(RequestOutput out) {
    completionTokens = out.completionTokens();
    for (TokenLogprob logprob : out.logprobs()) cumulativeLogprob += logprob.logprob();
    cachedPromptTokens = out.cachedPromptTokens();
    if (out.promptLogprobs() != null) promptLogprobs = out.promptLogprobs();
    if (out.finished()) {
      finishReason = out.finishReason();
      stopReason = out.stopReason();
    }
  }

  /** The first stream chunk's choice before any output (the role, an echoed prompt), or null. */
  abstract ObjectNode openingDelta();

  /** The stream chunk's choice for one output, or null when it has nothing to send yet. */
  abstract ObjectNode streamDelta(RequestOutput out);

  /** Keeps one output for the full (non-streaming) response. */
  abstract void accumulate(RequestOutput out);

  /** The choice of the full response. */
  abstract ObjectNode complete();

  ObjectNode node() {
    ObjectNode node = Json.object();
    node.put("index", index);
    return node;
  }

  /** Ends a choice object as both APIs do: its logprobs (null when there are none), then its finish. */
  final ObjectNode withLogprobsAndFinish(ObjectNode node, JsonNode logprobs) {
    return withLogprobsAndFinish(node, logprobs, null);
  }

  /** As above, with the prompt's logprobs (vLLM's prompt_logprobs) between the two when there are any. */
  final ObjectNode withLogprobsAndFinish(ObjectNode node, JsonNode logprobs, JsonNode promptLogprobs) {
    node.set("logprobs", logprobs == null ? NullNode.getInstance() : logprobs);
    if (promptLogprobs != null) node.set("prompt_logprobs", promptLogprobs);
    node.put("finish_reason", apiFinishReason());
    node.set("stop_reason", Json.MAPPER.valueToTree(stopReason));
    return node;
  }

  /** The finish_reason an API shows (null until finished). */
  String apiFinishReason() {
    return finishReason == null ? null : finishReason.apiName();
  }
}
