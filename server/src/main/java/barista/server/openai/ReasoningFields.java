package barista.server.openai;

import barista.server.http.ApiException;

/**
 * A chat request's reasoning budget: OpenAI's reasoning_effort (none: 0; minimal: --minimal-reasoning-budget; low,
 * medium, high: --reasoning-budgets) or barista's max_reasoning_tokens, which wins when both are given. Only a server started with
 * a reasoning parser knows where thinking ends, so elsewhere either field is refused.
 */
final class ReasoningFields {
  private ReasoningFields() {}

  /** The budget in thinking tokens, or null for none. */
  static Integer budget(JsonFields f, RequestPolicy policy) {
    String effort = f.string("reasoning_effort");
    Integer maxReasoningTokens = f.integer("max_reasoning_tokens");
    if (effort == null && maxReasoningTokens == null) return null;
    String field = maxReasoningTokens != null ? "max_reasoning_tokens" : "reasoning_effort";
    if (!policy.reasoning()) {
      throw ApiException.badRequest(field + " needs a reasoning model: start the server with --reasoning-parser "
          + "deepseek_r1", field);
    }
    if (effort != null && !policy.reasoningBudgets().containsKey(effort)) {
      throw ApiException.badRequest("reasoning_effort must be one of " + String.join(", ",
          policy.reasoningBudgets().keySet()) + ", got '" + effort + "'", "reasoning_effort");
    }
    // none: no thinking, </think> is forced at once.
    if (maxReasoningTokens == null) return policy.reasoningBudgets().get(effort);
    if (maxReasoningTokens < 0) {
      throw ApiException.badRequest("max_reasoning_tokens must be at least 0, got " + maxReasoningTokens,
          "max_reasoning_tokens");
    }
    return maxReasoningTokens;
  }
}
