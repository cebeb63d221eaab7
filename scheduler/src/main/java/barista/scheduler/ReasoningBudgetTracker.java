package barista.scheduler;

import barista.engine.sampling.ReasoningBudget;
import java.util.Arrays;

/**
 * Follows one request's thinking and ends it when its {@link ReasoningBudget} is spent: all output before the
 * end-of-thinking tokens is thinking (as the deepseek_r1 parser reads it); once the thinking plus the forced tokens
 * that precede {@code </think>} would reach the budget, the next samples are forced to those tokens one per step,
 * so the model reads its own closed thinking and answers. Confined to the engine thread.
 */
final class ReasoningBudgetTracker {
  private final ReasoningBudget budget;
  private final int[] recent; // the last endIds.length output tokens, to spot </think> however it was produced
  private int numRecent;
  private int thinkingTokens;
  private boolean thinking = true;
  private int forcedPos = -1;

  ReasoningBudgetTracker(ReasoningBudget budget) {
    this.budget = budget;
    this.recent = new int[budget.endIds().length];
  }

  /** The token the next sample must be, or -1 when the model picks freely. */
  int forcedNext() {
    if (forcedPos < 0 && thinking) {
      int before = budget.forcedBeforeEnd();
      int left = budget.maxTokens() - thinkingTokens;
      if (left <= before) forcedPos = before - Math.max(0, left); // a budget below the lead-in skips part of it
    }
    return forcedPos >= 0 && forcedPos < budget.forcedIds().length ? budget.forcedIds()[forcedPos] : -1;
  }

  /** Called with every output token in order (sampled or forced). */
  void onToken(int token) {
    if (forcedPos >= 0 && forcedPos < budget.forcedIds().length) forcedPos++;
    if (!thinking) return;
    thinkingTokens++;
    if (numRecent == recent.length) System.arraycopy(recent, 1, recent, 0, --numRecent);
    recent[numRecent++] = token;
    if (numRecent == recent.length && Arrays.equals(recent, budget.endIds())) {
      thinking = false;
      thinkingTokens -= recent.length;
    }
  }
}
