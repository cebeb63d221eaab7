package barista.server.openai;

import barista.config.ServeOptions;
import barista.engine.sampling.SamplingParams;
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
 */
public record CompletionRequest(CommonFields common, List<PromptInput> prompts, boolean echo,
    boolean addSpecialTokens, Integer maxTokens, boolean logprobs, List<String> unknownFields) {

  /** A prompt as text or as token ids. */
  public record PromptInput(String text, int[] tokenIds) {}

  public static CompletionRequest parse(ObjectNode body, SamplingParams defaults, ServeOptions options) {
    JsonFields f = new JsonFields(body);
    List<PromptInput> prompts = prompts(f.node("prompt"));
    CommonFields common = CommonFields.read(f, defaults, options);
    Integer maxTokens = f.integer("max_tokens");
    Integer logprobs = f.integer("logprobs");
    if (logprobs != null) common.params().logprobs(CommonFields.checkLogprobs(logprobs, options.maxLogprobs, "logprobs"));
    boolean echo = f.bool("echo", false);
    if (echo && logprobs != null) {
      throw ApiException.badRequest("echo with logprobs is not supported: prompt logprobs are not computed", "echo");
    }
    boolean addSpecialTokens = f.bool("add_special_tokens", true);
    refuseUnsupported(f, common.n());
    return new CompletionRequest(common, prompts, echo, addSpecialTokens, maxTokens, logprobs != null, f.unread());
  }

  /**
   * Fields barista knows but does not implement, refused as vLLM refuses them. best_of equal to n asks for nothing
   * beyond n, so it is honoured; more candidates than choices would need the V0 ranking vLLM V1 dropped too.
   */
  private static void refuseUnsupported(JsonFields f, int n) {
    if (f.string("suffix") != null) throw ApiException.badRequest("suffix is not currently supported", "suffix");
    Integer bestOf = f.integer("best_of");
    if (bestOf != null && bestOf != n) {
      throw ApiException.badRequest("best_of is not supported (only best_of equal to n, here " + n + "), got "
          + bestOf, "best_of");
    }
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
