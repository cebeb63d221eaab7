package barista.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import barista.engine.sampling.ReasoningBudget;
import barista.engine.sampling.SamplingParams;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A spent reasoning budget, end to end through the engine loop: the output is the model's own thinking up to the
 * budget, the forced "\n</think>\n\n" tokens, then what the model generates after reading them.
 */
class ReasoningBudgetTest {
  private static final int[] PROMPT = FakeExecutor.randomPrompt(7, 10);
  private static final int[] UNSTOPPED = FakeExecutor.generate(PROMPT, 40);
  private static final int NEWLINE = 2;
  private static final int TWO_NEWLINES = 3;
  /** A token the model does not produce in its first 40: it never closes its thinking by itself. */
  private static final int END = IntStream.range(1, FakeExecutor.VOCAB)
      .filter(t -> Arrays.stream(UNSTOPPED).noneMatch(u -> u == t)).findFirst().orElseThrow();

  private FakeEngine engine;

  @AfterEach
  void close() {
    if (engine != null) engine.close();
  }

  private int[] run(int budget, int end) throws Exception {
    engine = FakeEngine.roomy();
    ReasoningBudget b = new ReasoningBudget(budget, new int[] {end}, new int[] {NEWLINE, end, TWO_NEWLINES});
    return engine.submit("r", PROMPT, SamplingParams.builder().temperature(0).maxTokens(30).reasoningBudget(b).build())
        .await().tokens();
  }

  /** The model's thinking cut to {@code thought} tokens, then the forced ones, then its continuation. */
  private static int[] expected(int thought, int... forced) {
    int[] head = concat(Arrays.copyOf(UNSTOPPED, thought), forced);
    int[] rest = FakeExecutor.generate(concat(PROMPT, head), 30 - head.length);
    return concat(head, rest);
  }

  @Test
  void aSpentBudgetClosesTheThinkingAndTheAnswerFollows() throws Exception {
    // 15 thoughts of the model's and the forced newline make 16 thinking tokens.
    assertArrayEquals(expected(15, NEWLINE, END, TWO_NEWLINES), run(16, END));
  }

  @Test
  void aZeroBudgetClosesAtOnceWithoutTheLeadingNewline() throws Exception {
    assertArrayEquals(expected(0, END, TWO_NEWLINES), run(0, END));
  }

  @Test
  void thinkingThatEndsWithinTheBudgetIsLeftAlone() throws Exception {
    int end = UNSTOPPED[4];
    assertArrayEquals(Arrays.copyOf(UNSTOPPED, 30), run(16, end));
  }

  @Test
  void aBudgetBeyondMaxTokensChangesNothing() throws Exception {
    assertArrayEquals(Arrays.copyOf(UNSTOPPED, 30), run(31, END), "the forced newline would be token 31");
    assertEquals(30, run(40, END).length);
  }

  @Test
  void aClosingTagOfSeveralTokensIsForcedWhole() throws Exception {
    int end2 = IntStream.range(END + 1, FakeExecutor.VOCAB)
        .filter(t -> Arrays.stream(UNSTOPPED).noneMatch(u -> u == t)).findFirst().orElseThrow();
    engine = FakeEngine.roomy();
    ReasoningBudget b = new ReasoningBudget(10, new int[] {END, end2}, new int[] {NEWLINE, END, end2, TWO_NEWLINES});
    int[] got = engine.submit("r", PROMPT, SamplingParams.builder().temperature(0).maxTokens(30).reasoningBudget(b)
        .build()).await().tokens();
    assertArrayEquals(expected(9, NEWLINE, END, end2, TWO_NEWLINES), got);
  }

  private static int[] concat(int[] a, int[] b) {
    int[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
