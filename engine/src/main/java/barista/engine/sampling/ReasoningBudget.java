package barista.engine.sampling;

import java.util.Arrays;

/**
 * A bound on how many tokens a reasoning model may think: once {@code maxTokens} tokens of output precede the end
 * of thinking, the engine makes the model emit {@code forcedIds} (the text {@code "\n</think>\n\n"} as tokens) and
 * the answer follows. Everything before {@code endIds} counts as thinking, as the deepseek_r1 reasoning parser
 * reads it (the prompt of an R1 template already opens {@code <think>}).
 *
 * @param endIds the tokens of {@code </think>}
 * @param forcedIds the tokens appended when the budget is spent; they contain {@code endIds}
 */
public record ReasoningBudget(int maxTokens, int[] endIds, int[] forcedIds) {

  public ReasoningBudget {
    if (maxTokens < 0) throw new RefusedRequestException("max_reasoning_tokens",
        "max_reasoning_tokens must be at least 0, got " + maxTokens);
    endIds = endIds.clone();
    forcedIds = forcedIds.clone();
    if (endIds.length == 0 || endOffset(forcedIds, endIds) < 0) {
      throw new IllegalArgumentException("the forced tokens must contain the end-of-thinking tokens");
    }
  }

  /** How many forced tokens come before the end-of-thinking tokens (they are thinking too). */
  public int forcedBeforeEnd() {
    return endOffset(forcedIds, endIds);
  }

  private static int endOffset(int[] forced, int[] end) {
    for (int i = 0; i + end.length <= forced.length; i++) {
      if (Arrays.equals(forced, i, i + end.length, end, 0, end.length)) return i;
    }
    return -1;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ReasoningBudget b && b.maxTokens == maxTokens && Arrays.equals(b.endIds, endIds)
        && Arrays.equals(b.forcedIds, forcedIds);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * maxTokens + Arrays.hashCode(endIds)) + Arrays.hashCode(forcedIds);
  }

  @Override
  public String toString() {
    return "ReasoningBudget[maxTokens=" + maxTokens + ", endIds=" + Arrays.toString(endIds) + ", forcedIds="
        + Arrays.toString(forcedIds) + "]";
  }
}
