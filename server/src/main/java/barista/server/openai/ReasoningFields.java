package barista.server.openai;

import barista.config.ServeOptions;
import barista.server.http.ApiException;

/**
 * A chat request's reasoning budget: OpenAI's reasoning_effort (none: 0; minimal: --minimal-reasoning-budget; low,
 * medium, high: --reasoning-budgets) or barista's max_reasoning_tokens, which wins when both are given. Only a server started with
 * a reasoning parser knows where thinking ends, so elsewhere either field is refused.
 */
final class ReasoningFields {
  private ReasoningFields() {}

  /** OpenAI's efforts beside low, medium and high. */
  private static final java.util.List<String> EXTRA_EFFORTS = java.util.List.of("none", "minimal");

  /** The budget in thinking tokens, or null for none. */
  static Integer budget(JsonFields f, ServeOptions options) {
    String effort = f.string("reasoning_effort");
    Integer maxReasoningTokens = f.integer("max_reasoning_tokens");
    if (effort == null && maxReasoningTokens == null) return null;
    String field = maxReasoningTokens != null ? "max_reasoning_tokens" : "reasoning_effort";
    if (options.reasoningParser == null) {
      throw ApiException.badRequest(field + " needs a reasoning model: start the server with --reasoning-parser "
          + "deepseek_r1", field);
    }
    if (effort != null && !ServeOptions.REASONING_EFFORTS.contains(effort) && !EXTRA_EFFORTS.contains(effort)) {
      throw ApiException.badRequest("reasoning_effort must be one of none, minimal, " + String.join(", ",
          ServeOptions.REASONING_EFFORTS) + ", got '" + effort + "'", "reasoning_effort");
    }
    if (maxReasoningTokens == null) {
      // none: no thinking, </think> is forced at once; minimal: --minimal-reasoning-budget tokens.
      if (effort.equals("none")) return 0;
      if (effort.equals("minimal")) return options.minimalReasoningBudget;
      return options.reasoningBudget(effort);
    }
    if (maxReasoningTokens < 0) {
      throw ApiException.badRequest("max_reasoning_tokens must be at least 0, got " + maxReasoningTokens,
          "max_reasoning_tokens");
    }
    return maxReasoningTokens;
  }
}
