package barista.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import barista.engine.sampling.ReasoningBudget;
import org.junit.jupiter.api.Test;

/** The budget's bookkeeping token by token, with a closing tag of two tokens (7, 8) inside "\n" 7 8 "\n\n". */
class ReasoningBudgetTrackerTest {
  private static final int NEWLINE = 1, END = 7, END2 = 8, TWO_NEWLINES = 2;

  private static ReasoningBudgetTracker budget(int maxTokens) {
    return new ReasoningBudgetTracker(new ReasoningBudget(maxTokens, new int[] {END, END2},
        new int[] {NEWLINE, END, END2, TWO_NEWLINES}));
  }

  @Test
  void theLeadInStartsExactlyWhenTheThinkingLeftEqualsItsLength() {
    ReasoningBudgetTracker b = budget(3);
    assertEquals(-1, b.forcedNext());
    b.onToken(20);
    assertEquals(-1, b.forcedNext(), "two left, one lead-in token: not yet");
    b.onToken(21);
    for (int forced : new int[] {NEWLINE, END, END2, TWO_NEWLINES}) {
      assertEquals(forced, b.forcedNext(), "one left: the newline counts as thinking, then the tag");
      b.onToken(forced);
    }
    for (int i = 0; i < 5; i++) {
      assertEquals(-1, b.forcedNext(), "the answer is the model's");
      b.onToken(30 + i);
    }
  }

  @Test
  void theModelsOwnClosingTagAfterOtherTokensEndsTheThinking() {
    ReasoningBudgetTracker b = budget(6);
    for (int token : new int[] {20, 21, 22, END, END2}) { // 3 thinking tokens, then </think> in two tokens
      assertEquals(-1, b.forcedNext());
      b.onToken(token);
    }
    for (int i = 0; i < 20; i++) {
      assertEquals(-1, b.forcedNext(), "answer token " + i + ": the thinking ended, no budget applies");
      b.onToken(30 + i);
    }
  }
}
