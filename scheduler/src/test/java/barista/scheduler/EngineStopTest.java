package barista.scheduler;

import static barista.scheduler.SchedulerConfig.Policy.FCFS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.sampling.SamplingParams;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stop rules end to end. Each test first reads what the model generates for a prompt unstopped, then picks its
 * EOS, stop id or stop string from that output, so the expected cut is known.
 */
class EngineStopTest {
  private static final int[] PROMPT = FakeExecutor.randomPrompt(11, 9);
  private static final int[] UNSTOPPED = FakeExecutor.generate(PROMPT, 40);
  private static final String UNSTOPPED_TEXT = LetterDetokenizer.text(UNSTOPPED);

  private FakeEngine engine;

  @AfterEach
  void close() {
    if (engine != null) engine.close();
  }

  private Collector.Result run(SamplingParams.Builder params, int... eosIds) throws Exception {
    engine = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(4, 32, true, FCFS), eosIds);
    return engine.submit("r", PROMPT, params.maxTokens(40).build()).await();
  }

  private static int firstIndexOf(int token) {
    for (int i = 0; ; i++) if (UNSTOPPED[i] == token) return i;
  }

  private static void assertOutput(int numTokens, String text, Collector.Result result) {
    assertArrayEquals(Arrays.copyOf(UNSTOPPED, numTokens), result.tokens());
    assertEquals(numTokens, result.last().completionTokens());
    assertEquals(text, result.text());
  }

  @Test
  void maxTokensEndsWithLengthAndExactlyThatManyTokens() throws Exception {
    Collector.Result r = run(SamplingParams.builder().temperature(0), 0);
    assertEquals(FinishReason.LENGTH, r.finishReason());
    assertNull(r.last().stopReason());
    assertOutput(40, UNSTOPPED_TEXT, r);
  }

  @Test
  void eosStopsWithoutItsText() throws Exception {
    int eos = UNSTOPPED[12];
    int at = firstIndexOf(eos);
    Collector.Result r = run(SamplingParams.builder(), eos);
    assertEquals(FinishReason.STOP, r.finishReason());
    assertNull(r.last().stopReason());
    assertOutput(at + 1, UNSTOPPED_TEXT.substring(0, at), r);
  }

  @Test
  void ignoreEosRunsToMaxTokens() throws Exception {
    Collector.Result r = run(SamplingParams.builder().ignoreEos(true), UNSTOPPED[12]);
    assertEquals(FinishReason.LENGTH, r.finishReason());
    assertOutput(40, UNSTOPPED_TEXT, r);
  }

  @Test
  void stopTokenIdIsTheStopReason() throws Exception {
    int stopId = UNSTOPPED[7];
    int at = firstIndexOf(stopId);
    Collector.Result r = run(SamplingParams.builder().stopTokenIds(List.of(stopId)), 0);
    assertEquals(FinishReason.STOP, r.finishReason());
    assertEquals(stopId, r.last().stopReason());
    assertOutput(at + 1, UNSTOPPED_TEXT.substring(0, at), r);
  }

  @Test
  void stopStringIsCutAndNeverStreamed() throws Exception {
    String stop = UNSTOPPED_TEXT.substring(20, 24);
    int at = UNSTOPPED_TEXT.indexOf(stop);
    Collector.Result r = run(SamplingParams.builder().stop(List.of(stop)), 0);
    assertEquals(FinishReason.STOP, r.finishReason());
    assertEquals(stop, r.last().stopReason());
    assertOutput(at + stop.length(), UNSTOPPED_TEXT.substring(0, at), r); // joined pieces: no partial stop leaked
    assertTrue(r.outputs().size() > 2, "the text was streamed in pieces");
  }

  @Test
  void includeStopStrInOutputKeepsTheStopString() throws Exception {
    String stop = UNSTOPPED_TEXT.substring(20, 24);
    int end = UNSTOPPED_TEXT.indexOf(stop) + stop.length();
    Collector.Result r = run(SamplingParams.builder().stop(List.of(stop)).includeStopStrInOutput(true), 0);
    assertEquals(stop, r.last().stopReason());
    assertOutput(end, UNSTOPPED_TEXT.substring(0, end), r);
  }

  @Test
  void minTokensBansEosAndStopIdsUntilReached() throws Exception {
    int eos = UNSTOPPED[3];
    int stopId = UNSTOPPED[5];
    int minTokens = Math.max(firstIndexOf(eos), firstIndexOf(stopId)) + 3;
    Collector.Result r = run(SamplingParams.builder().minTokens(minTokens).stopTokenIds(List.of(stopId)), eos);
    int[] tokens = r.tokens();
    assertTrue(tokens.length > minTokens, "unbanned, it would have stopped before min_tokens");
    for (int i = 0; i < minTokens; i++) {
      assertNotEquals(eos, tokens[i], "EOS at " + i);
      assertNotEquals(stopId, tokens[i], "stop id at " + i);
    }
    if (r.finishReason() == FinishReason.STOP) {
      int last = tokens[tokens.length - 1];
      assertTrue(last == eos || last == stopId);
    }
  }
}
