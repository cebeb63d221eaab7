package barista.server.openai;

import barista.server.http.ApiException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A POST /v1/completions body.
 *
 * @param prompts each prompt is text or token ids (the other null); each gets its own n choices
 * @param logprobs whether logprobs were asked for (the count is in the sampling params)
 * @param bestOf candidates generated per prompt, of which the n most likely are returned (at least n)
 */
public record CompletionRequest(CommonFields common, List<PromptInput> prompts, boolean echo,
    boolean addSpecialTokens, Integer maxTokens, boolean logprobs, List<String> unknownFields, int bestOf) {

  /** A prompt as text or as token ids. */
  public record PromptInput(String text, int[] tokenIds) {}

  public static CompletionRequest parse(ObjectNode body, RequestPolicy policy) {
    JsonFields f = new JsonFields(body);
    // Chat-only fields that would change the output: refused here rather than ignored.
    for (String field : List.of("tools", "tool_choice", "parallel_tool_calls", "reasoning_effort",
        "max_reasoning_tokens")) {
      if (f.has(field)) throw ApiException.badRequest(field + " is only supported by /v1/chat/completions", field);
    }
    List<PromptInput> prompts = prompts(f.node("prompt"));
    CommonFields common = CommonFields.read(f, policy);
    Integer maxTokens = f.integer("max_tokens");
    Integer logprobs = f.integer("logprobs");
    if (logprobs != null) common.params().logprobs(CommonFields.checkLogprobs(logprobs, policy.maxLogprobs(), "logprobs"));
    boolean echo = f.bool("echo", false);
    // The echoed prompt's logprobs are its prompt logprobs, with prompt_logprobs' count if given (as vLLM).
    if (echo && logprobs != null && common.params().build().promptLogprobs() == null) {
      common.params().promptLogprobs(logprobs);
    }
    boolean addSpecialTokens = f.bool("add_special_tokens", true);
    if (f.string("suffix") != null) throw ApiException.badRequest("suffix is not currently supported", "suffix");
    int bestOf = bestOf(f.integer("best_of"), common);
    return new CompletionRequest(common, prompts, echo, addSpecialTokens, maxTokens, logprobs != null, f.unread(),
        bestOf);
  }

  /**
   * best_of as vLLM V0 had it: that many candidates per prompt, the n with the highest cumulative logprob returned.
   * Only whole responses can be ranked, so a stream must not ask for more candidates than choices.
   */
  private static int bestOf(Integer bestOf, CommonFields common) {
    if (bestOf == null) return common.n();
    if (bestOf < common.n() || bestOf > CommonFields.MAX_N) {
      throw ApiException.badRequest("best_of must be between n (" + common.n() + ") and " + CommonFields.MAX_N
          + ", got " + bestOf, "best_of");
    }
    if (bestOf > common.n() && common.stream()) {
      throw ApiException.badRequest("best_of above n is not supported when streaming: candidates are ranked once "
          + "all are done", "best_of");
    }
    return bestOf;
  }

  /** A string, a list of strings, a list of token ids, or a list of lists of token ids. */
  private static List<PromptInput> prompts(JsonNode prompt) {
    if (prompt == null) throw ApiException.badRequest("prompt is required", "prompt");
    if (prompt.isTextual()) return List.of(text(prompt));
    String expected = "prompt must be a string, an array of strings, an array of token ids or an array of arrays "
        + "of token ids";
    if (!prompt.isArray() || prompt.isEmpty()) throw ApiException.badRequest(expected, "prompt");
    if (prompt.get(0).isIntegralNumber()) return List.of(new PromptInput(null, tokenIds(prompt, expected)));
    List<PromptInput> prompts = new ArrayList<>();
    for (JsonNode item : prompt) {
      if (item.isTextual()) {
        prompts.add(text(item));
      } else if (item.isArray() && !item.isEmpty()) {
        prompts.add(new PromptInput(null, tokenIds(item, expected)));
      } else {
        throw ApiException.badRequest(expected, "prompt");
      }
    }
    return prompts;
  }

  private static PromptInput text(JsonNode node) {
    if (node.asText().isEmpty()) throw ApiException.badRequest("prompt must not be empty", "prompt");
    return new PromptInput(node.asText(), null);
  }

  private static int[] tokenIds(JsonNode array, String expected) {
    int[] ids = new int[array.size()];
    for (int i = 0; i < ids.length; i++) {
      JsonNode id = array.get(i);
      if (!id.isIntegralNumber() || !id.canConvertToInt()) throw ApiException.badRequest(expected, "prompt");
      ids[i] = id.asInt();
    }
    return ids;
  }
}
