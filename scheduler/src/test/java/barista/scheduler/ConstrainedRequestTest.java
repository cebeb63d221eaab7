package barista.scheduler;

import static barista.scheduler.SchedulerConfig.Policy.FCFS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.constraint.Grammar;
import barista.engine.constraint.MaskStats;
import barista.engine.constraint.Regexes;
import barista.engine.constraint.TokenVocabulary;
import barista.engine.sampling.RefusedRequestException;
import barista.engine.sampling.ReasoningBudget;
import barista.engine.sampling.SamplingParams;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A constrained request through the engine loop: its rows carry the grammar's mask, the grammar follows each
 * sampled token and EOS ends it in an accepting state; a token the grammar does not allow (the fake model ignores
 * masks) aborts that request only.
 */
class ConstrainedRequestTest {
  private FakeEngine engine;

  @AfterEach
  void close() {
    if (engine != null) engine.close();
  }

  /** The fake model's tokens as text, one letter each (LetterDetokenizer's), EOS excluded. */
  static TokenVocabulary vocabulary(int eos) {
    byte[][] bytes = new byte[FakeExecutor.VOCAB][];
    for (int id = 0; id < bytes.length; id++) {
      if (id != eos) bytes[id] = LetterDetokenizer.text(new int[] {id}).getBytes(StandardCharsets.UTF_8);
    }
    return new TokenVocabulary(bytes, FakeExecutor.VOCAB, new int[] {eos});
  }

  private static boolean allows(long[] mask, int id) {
    return (mask[id >>> 6] >>> id & 1) != 0;
  }

  @Test
  void theGrammarFollowsTheTokensAndEndsWithEos() throws Exception {
    int[] prompt = null;
    int[] expected = null;
    for (long seed = 0; ; seed++) { // a prompt whose 4th generated token appears nowhere before it: that is EOS
      prompt = FakeExecutor.randomPrompt(seed, 6);
      expected = FakeExecutor.generate(prompt, 4);
      int eos = expected[3];
      if (Arrays.stream(expected, 0, 3).noneMatch(t -> t == eos)) break;
    }
    int eos = expected[3];
    engine = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(8, 32, true, FCFS), eos);
    String text = LetterDetokenizer.text(expected, 0, 3);
    Grammar grammar = Grammar.compile(Regexes.literal(text), vocabulary(eos));
    long stepsBefore = MaskStats.steps();
    Collector c = new Collector();
    engine.core.submit(new GenerationRequest("c", prompt, SamplingParams.greedy(10), 0, System.nanoTime(), grammar), c);
    Collector.Result r = c.await();
    assertEquals(FinishReason.STOP, r.finishReason());
    assertArrayEquals(expected, r.tokens());
    assertEquals(text, r.text());
    List<long[]> masks = engine.executor.masks.values().iterator().next();
    assertEquals(4, masks.size(), "one mask per sampled token");
    for (int step = 0; step < 4; step++) {
      for (int id = 0; id < FakeExecutor.VOCAB; id++) {
        assertEquals(id == expected[step], allows(masks.get(step), id), "step " + step + " token " + id);
      }
    }
    assertTrue(MaskStats.steps() >= stepsBefore + 4);
  }

  @Test
  void aTokenTheGrammarRefusesAbortsOnlyThatRequest() throws Exception {
    engine = FakeEngine.roomy();
    int[] prompt = FakeExecutor.randomPrompt(3, 5);
    int first = FakeExecutor.generate(prompt, 1)[0];
    int other = first == 1 ? 2 : 1;
    Grammar grammar = Grammar.compile(Regexes.literal(LetterDetokenizer.text(new int[] {other})), vocabulary(0));
    Collector constrained = new Collector();
    engine.core.submit(new GenerationRequest("c", prompt, SamplingParams.greedy(5), 0, System.nanoTime(), grammar),
        constrained);
    Collector free = engine.submit("f", prompt, SamplingParams.greedy(5));
    assertEquals(FinishReason.ABORT, constrained.await().finishReason());
    Collector.Result r = free.await();
    assertEquals(FinishReason.LENGTH, r.finishReason());
    assertArrayEquals(FakeExecutor.generate(prompt, 5), r.tokens());
  }

  /** A spent budget would force a token past the grammar, so the engine refuses the pair before admitting it. */
  @Test
  void aReasoningBudgetWithAConstraintIsRefusedAndTheEngineServesOn() throws Exception {
    engine = FakeEngine.roomy();
    int[] prompt = FakeExecutor.randomPrompt(5, 5);
    Grammar grammar = Grammar.compile(Regexes.literal("ab"), vocabulary(0));
    SamplingParams budgeted = SamplingParams.builder().temperature(0).maxTokens(5)
        .reasoningBudget(new ReasoningBudget(2, new int[] {1}, new int[] {1})).build();
    RefusedRequestException e = assertThrows(RefusedRequestException.class, () -> engine.core.submit(
        new GenerationRequest("c", prompt, budgeted, 0, System.nanoTime(), grammar), new Collector()));
    assertEquals("reasoning_effort", e.what());
    Collector.Result r = engine.submit("f", prompt, SamplingParams.greedy(5)).await();
    assertArrayEquals(FakeExecutor.generate(prompt, 5), r.tokens());
  }

  /**
   * The mask follows the tokens the request has left: after its first token, with three left, the grammar's long
   * branch (three more bytes) can no longer finish, so only the short one is allowed. The mask time is counted per
   * step, and only for steps with a constrained row.
   */
  @Test
  void nearMaxTokensOnlyTokensThatCanStillFinishAreAllowed() throws Exception {
    engine = FakeEngine.roomy();
    int[] prompt = FakeExecutor.randomPrompt(8, 5);
    int first = FakeExecutor.generate(prompt, 1)[0];
    int y = first == 24 ? 23 : 24, z = first == 25 ? 22 : 25; // letters y and z, or others if the first is one
    String lead = LetterDetokenizer.text(new int[] {first});
    String shortBranch = LetterDetokenizer.text(new int[] {y});
    String longBranch = LetterDetokenizer.text(new int[] {z, z, z});
    Grammar grammar = Grammar.compile(Regexes.parse(lead + "(" + shortBranch + "|" + longBranch + ")"),
        vocabulary(0));
    long stepsBefore = MaskStats.steps(), nanosBefore = MaskStats.nanos();
    Collector c = new Collector();
    engine.core.submit(new GenerationRequest("c", prompt, SamplingParams.greedy(4), 0, System.nanoTime(), grammar), c);
    c.await(); // the fake model ignores masks, so its second token may well abort the request: the masks tell
    List<long[]> masks = engine.executor.masks.values().iterator().next();
    assertTrue(allows(masks.get(0), first), "the lead");
    assertTrue(allows(masks.get(1), y), "the short branch still finishes");
    assertTrue(!allows(masks.get(1), z), "the long branch cannot: 3 bytes and EOS in 3 tokens");
    long steps = MaskStats.steps() - stepsBefore, nanos = MaskStats.nanos() - nanosBefore;
    assertEquals(masks.size(), steps, "one mask step per constrained step");
    assertTrue(nanos >= 0 && nanos < 10_000_000_000L * steps, nanos + " ns for " + steps + " steps");

    long unconstrainedBefore = MaskStats.steps();
    engine.submit("free", prompt, SamplingParams.greedy(3)).await();
    assertEquals(unconstrainedBefore, MaskStats.steps(), "steps without a constrained row record no mask time");
  }
}
