package barista.scheduler;

import static barista.scheduler.SchedulerConfig.Policy.FCFS;
import static barista.scheduler.SchedulerConfig.Policy.PRIORITY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.sampling.SamplingParams;
import barista.kvcache.KvCacheManager;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Step-level rules of the scheduler, driven by hand over a {@link FakeExecutor}. */
class SchedulerTest {
  private static final int BLOCK_SIZE = 4;
  private static final int MAX_MODEL_LEN = 128;

  private final Map<String, int[]> prompts = new HashMap<>();
  private final Map<String, List<Integer>> generated = new HashMap<>();
  private final List<String> finishOrder = new ArrayList<>();
  private FakeExecutor executor;
  private KvCacheManager kv;
  private Scheduler scheduler;
  private long nextSeqId;

  private void start(int numBlocks, SchedulerConfig config) {
    start(numBlocks, config, 0);
  }

  private void start(int numBlocks, SchedulerConfig config, int graphTokens) {
    executor = new FakeExecutor(numBlocks, BLOCK_SIZE);
    kv = new KvCacheManager(numBlocks, BLOCK_SIZE, config.enablePrefixCaching());
    scheduler = new Scheduler(config, kv, graphTokens);
  }

  private static SchedulerConfig config(int maxNumSeqs, int maxNumBatchedTokens, SchedulerConfig.Policy policy) {
    return new SchedulerConfig(maxNumSeqs, maxNumBatchedTokens, true, true, policy, MAX_MODEL_LEN, 100);
  }

  private Request add(String id, int promptLength, int maxTokens, int priority, long arrival) {
    int[] prompt = FakeExecutor.randomPrompt(id.hashCode(), promptLength);
    prompts.put(id, prompt);
    SamplingParams params = SamplingParams.greedy(maxTokens);
    GenerationRequest g = new GenerationRequest(id, prompt, params, priority, arrival);
    Request r = new Request(nextSeqId++, g, maxTokens, 0,
        new StopChecker(params, new int[] {0}, new LetterDetokenizer()), out -> {});
    scheduler.add(r);
    return r;
  }

  private void step() {
    ScheduledBatch batch = scheduler.schedule();
    assertFalse(batch.isEmpty(), "scheduler made no progress");
    for (RequestOutput out : scheduler.update(batch, executor.execute(batch.sequences))) {
      for (int t : out.newTokenIds()) generated.computeIfAbsent(out.requestId(), k -> new ArrayList<>()).add(t);
      if (out.finished()) finishOrder.add(out.requestId());
    }
  }

  private void runToEnd() {
    for (int steps = 0; scheduler.hasWork(); steps++) {
      assertTrue(steps < 10_000, "requests never finish");
      step();
    }
  }

  /** Each request generated exactly what the model gives its prompt alone, and the cache is empty again. */
  private void assertSoloOutputsAndCacheFree(int maxTokens) {
    assertSoloOutputsAndCacheFree(id -> maxTokens);
  }

  private void assertSoloOutputsAndCacheFree(java.util.function.ToIntFunction<String> maxTokens) {
    for (var e : prompts.entrySet()) {
      int[] got = generated.get(e.getKey()).stream().mapToInt(Integer::intValue).toArray();
      assertArrayEquals(FakeExecutor.generate(e.getValue(), maxTokens.applyAsInt(e.getKey())), got, e.getKey());
    }
    assertEquals(kv.numBlocks() - 1, kv.numFreeBlocks());
  }

  @Test
  void everyStepRespectsTokenBudgetAndSequenceLimit() {
    start(128, config(3, 16, FCFS));
    for (int i = 0; i < 10; i++) add("r" + i, 1 + 5 * i, 8, 0, i);
    runToEnd();
    assertSoloOutputsAndCacheFree(8);
    for (FakeExecutor.Step s : executor.steps) {
      assertTrue(s.numTokens() <= 16 && s.numSequences() <= 3, s.toString());
    }
    assertTrue(executor.steps.stream().anyMatch(s -> s.numTokens() == 16), "the budget is filled when work waits");
    assertTrue(executor.steps.stream().anyMatch(s -> s.numSequences() == 3), "up to max_num_seqs run together");
  }

  /**
   * Requests arriving step by step, many with the same prompt (prefix-cache siblings), prompts chunked beside
   * decodes: every request finishes with its solo output and the cache ends empty.
   */
  @Test
  void staggeredArrivalsUnderTheGraphBudgetAllFinish() {
    executor = new FakeExecutor(256, BLOCK_SIZE);
    kv = new KvCacheManager(256, BLOCK_SIZE, true);
    scheduler = new Scheduler(config(8, 64, FCFS), kv, 16); // mostly graph-sized steps, some whole-budget ones
    java.util.Random random = new java.util.Random(4);
    int[][] pool = new int[3][];
    for (int i = 0; i < pool.length; i++) pool[i] = FakeExecutor.randomPrompt(100 + i, 20 + 9 * i);
    Map<String, Integer> maxTokens = new HashMap<>();
    int added = 0;
    for (int steps = 0; added < 60 || scheduler.hasWork(); steps++) {
      assertTrue(steps < 20_000, "requests never finish");
      if (added < 60 && random.nextInt(3) == 0) {
        String id = "q" + added;
        int[] prompt = pool[random.nextInt(pool.length)];
        int max = 1 + random.nextInt(12);
        prompts.put(id, prompt);
        maxTokens.put(id, max);
        SamplingParams params = SamplingParams.greedy(max);
        Request r = new Request(nextSeqId++, new GenerationRequest(id, prompt, params, 0, added), max, 0,
            new StopChecker(params, new int[] {0}, new LetterDetokenizer()), out -> {});
        scheduler.add(r);
        added++;
      }
      if (scheduler.hasWork()) step();
    }
    for (var e : maxTokens.entrySet()) {
      int[] got = generated.get(e.getKey()).stream().mapToInt(Integer::intValue).toArray();
      assertArrayEquals(FakeExecutor.generate(prompts.get(e.getKey()), e.getValue()), got, e.getKey());
    }
    assertEquals(kv.numBlocks() - 1, kv.numFreeBlocks());
  }

  /**
   * With CUDA graphs of up to 32 tokens: prompts arriving beside decodes, all the work fitting in a few graph steps,
   * are chunked to the graph, and every decode row still runs each step.
   */
  @Test
  void aFewPromptsBesideDecodesAreChunkedToTheLargestGraph() {
    start(256, config(16, 256, FCFS), 32);
    List<Request> early = decoding(6, 8, 20);
    int before = executor.steps.size();
    for (int i = 0; i < 3; i++) add("p" + i, 20, 6, 0, 10 + i); // 60 prompt tokens + 6 decodes: 2-3 graph steps
    step();
    FakeExecutor.Step first = executor.steps.get(before);
    assertEquals(32, first.numTokens(), "the burst is cut to the graph: " + first);
    runToEnd();
    for (FakeExecutor.Step s : executor.steps) assertTrue(s.numTokens() <= 32, s.toString());
    for (Request r : early) assertEquals(20, r.numOutput(), "every decode row ran to max_tokens");
    assertSoloOutputsAndCacheFree(id -> id.startsWith("d") ? 20 : 6);
  }

  /** More decoding rows than the largest graph holds: every one of them still runs every step. */
  @Test
  void decodesBeyondTheGraphAreNeverLeftOut() {
    start(256, config(16, 256, FCFS), 8);
    List<Request> rows = decoding(12, 2, 10);
    add("late", 4, 2, 0, 20); // 12 decodes + 4 prompt tokens: within four graph steps of 8, but 12 > 8
    int[] before = rows.stream().mapToInt(Request::numOutput).toArray();
    step();
    for (int i = 0; i < rows.size(); i++) {
      assertEquals(Math.min(10, before[i] + 1), rows.get(i).numOutput(), "decode row " + i + " ran this step");
    }
    runToEnd();
    assertSoloOutputsAndCacheFree(id -> id.equals("late") ? 2 : 10);
  }

  /** Requests d0..d{n-1}, stepped until each has its first token: all of them decoding. */
  private List<Request> decoding(int n, int promptLength, int maxTokens) {
    List<Request> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) rows.add(add("d" + i, promptLength, maxTokens, 0, i));
    while (rows.stream().anyMatch(r -> r.numOutput() == 0)) step();
    return rows;
  }

  /** A wave bigger than a few graph steps takes the whole token budget: cutting it up costs throughput. */
  @Test
  void aWaveOfPromptsTakesTheWholeBudget() {
    start(256, config(16, 256, FCFS), 32);
    for (int i = 0; i < 10; i++) add("w" + i, 20, 4, 0, i); // 200 tokens > 4 graph steps of 32
    step();
    assertEquals(200, executor.steps.get(0).numTokens());
    runToEnd();
    assertSoloOutputsAndCacheFree(4);
  }

  @Test
  void longPromptIsChunkedOverSteps() {
    start(64, config(4, 8, FCFS));
    add("long", 30, 4, 0, 0);
    runToEnd();
    assertSoloOutputsAndCacheFree(4);
    List<Integer> tokensPerStep = executor.steps.stream().map(FakeExecutor.Step::numTokens).toList();
    assertEquals(List.of(8, 8, 8, 6, 1, 1, 1), tokensPerStep);
  }

  @Test
  void withoutChunkedPrefillPromptsRunWholeAndBudgetMustCoverTheContext() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new SchedulerConfig(4, 64, false, true, FCFS, MAX_MODEL_LEN, 100));
    assertTrue(e.getMessage().contains("--max-num-batched-tokens (64)"), e.getMessage());

    start(64, new SchedulerConfig(4, MAX_MODEL_LEN, false, true, FCFS, MAX_MODEL_LEN, 100));
    add("a", 100, 2, 0, 0);
    add("b", 100, 2, 0, 1);
    runToEnd();
    assertSoloOutputsAndCacheFree(2);
    assertEquals(new FakeExecutor.Step(100, 1), executor.steps.get(0), "b does not fit beside a and is not split");
  }

  @Test
  void fullCachePreemptsAndRecomputesWithoutChangingOutputs() {
    start(1 + 10, config(4, 64, FCFS)); // 40 slots; four requests of 24 tokens
    for (int i = 0; i < 4; i++) add("r" + i, 8, 16, 0, i);
    runToEnd();
    assertTrue(scheduler.preemptions() > 0);
    assertSoloOutputsAndCacheFree(16);
  }

  @Test
  void fcfsRunsInArrivalOrder() {
    start(64, config(1, 32, FCFS));
    add("late-important", 4, 3, 0, 30);
    add("early", 4, 3, 5, 10);
    add("middle", 4, 3, 5, 20);
    runToEnd();
    assertEquals(List.of("early", "middle", "late-important"), finishOrder);
  }

  @Test
  void priorityRunsLowValueFirstThenArrival() {
    start(64, config(1, 32, PRIORITY));
    add("late-important", 4, 3, 0, 30);
    add("early", 4, 3, 5, 10);
    add("middle", 4, 3, 5, 20);
    runToEnd();
    assertEquals(List.of("late-important", "early", "middle"), finishOrder);
  }

  @Test
  void priorityPreemptsTheLeastImportantRequestEvenWhenItRunsFirst() {
    start(1 + 8, config(2, 32, PRIORITY)); // 32 slots; two requests of 24 tokens
    add("unimportant", 4, 20, 9, 0);
    step(); // it runs alone first, so it heads the running list
    add("important", 4, 20, 0, 1);
    runToEnd();
    assertTrue(scheduler.preemptions() > 0);
    assertEquals(List.of("important", "unimportant"), finishOrder);
    assertSoloOutputsAndCacheFree(20);
  }

  @Test
  void fcfsPreemptsTheNewestRequest() {
    start(1 + 8, config(2, 32, FCFS));
    add("first", 4, 20, 9, 0);
    step();
    add("second", 4, 20, 0, 1);
    runToEnd();
    assertTrue(scheduler.preemptions() > 0);
    assertEquals(List.of("first", "second"), finishOrder);
    assertSoloOutputsAndCacheFree(20);
  }

  @Test
  void removeFreesBlocksOfRunningAndWaitingRequests() {
    start(64, config(1, 32, FCFS));
    Request running = add("running", 10, 20, 0, 0);
    Request waiting = add("waiting", 10, 20, 0, 1);
    step();
    assertEquals(1, scheduler.numRunning());
    assertEquals(1, scheduler.numWaiting());
    assertTrue(scheduler.remove(waiting));
    assertTrue(scheduler.remove(running));
    assertFalse(scheduler.remove(running), "already gone");
    assertFalse(scheduler.hasWork());
    assertEquals(kv.numBlocks() - 1, kv.numFreeBlocks());
  }
}
