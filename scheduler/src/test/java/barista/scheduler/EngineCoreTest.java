package barista.scheduler;

import static barista.scheduler.SchedulerConfig.Policy.FCFS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.sampling.RefusedRequestException;
import barista.engine.sampling.SamplingParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine loop through its public API: batching, preemption, prefix caching, abort, admission, shutdown. */
class EngineCoreTest {
  private FakeEngine engine;

  @AfterEach
  void close() {
    if (engine != null) engine.close();
  }

  private static SamplingParams maxTokens(int n) {
    return SamplingParams.greedy(n);
  }

  /** Final status once the loop has stopped, after a clean drain. */
  private EngineStatus drainedStatus() throws InterruptedException {
    assertTrue(engine.core.shutdown(Duration.ofSeconds(10)), "drained in time");
    return engine.core.status();
  }

  private static void assertSolo(int[] prompt, int maxTokens, Collector.Result result) {
    int[] expected = FakeExecutor.generate(prompt, maxTokens);
    assertArrayEquals(expected, result.tokens());
    assertEquals(LetterDetokenizer.text(expected), result.text());
    assertEquals(FinishReason.LENGTH, result.finishReason());
    assertEquals(maxTokens, result.last().completionTokens());
    assertEquals(prompt.length, result.last().promptTokens());
  }

  @Test
  void concurrentRequestsEachGenerateWhatTheyWouldAlone() throws Exception {
    engine = new FakeEngine(new FakeExecutor(128, 4), FakeEngine.config(4, 16, true, FCFS), 0);
    int[] shared = FakeExecutor.randomPrompt(7, 12);
    List<int[]> prompts = new ArrayList<>();
    List<Collector> collectors = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      int[] own = FakeExecutor.randomPrompt(i, 1 + 7 * i % 40);
      int[] prompt = i % 3 == 0 ? own : concat(shared, own); // some share a prefix
      prompts.add(prompt);
      collectors.add(engine.submit("r" + i, prompt, maxTokens(5 + i)));
    }
    for (int i = 0; i < 12; i++) assertSolo(prompts.get(i), 5 + i, collectors.get(i).await());
    for (FakeExecutor.Step s : engine.executor.steps) {
      assertTrue(s.numTokens() <= 16 && s.numSequences() <= 4, s.toString());
    }
    EngineStatus status = drainedStatus();
    assertEquals(status.totalBlocks(), status.freeBlocks());
  }

  /** Every step's tokens land in vLLM's buckets: 50 prompt tokens in chunks of 8 and 2, then 5 decodes. */
  @Test
  void stepTokensCountEveryStepInItsBucket() throws Exception {
    engine = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(2, 8, false, FCFS), 0);
    engine.submit("long", FakeExecutor.randomPrompt(1, 50), maxTokens(6)).await();
    StepTokenHistogram.Snapshot s = engine.core.stepTokens();
    assertEquals(engine.executor.steps.size(), s.steps());
    assertEquals(50 + 5, s.tokens());
    assertEquals(5, s.counts()[0], "decode steps: 1 token");
    assertEquals(7, s.counts()[1], "six chunks of 8 and one of 2: (1, 8]");
    assertEquals(12, s.steps());
  }

  @Test
  void chunkedPromptLongerThanTheBudgetCompletes() throws Exception {
    engine = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(2, 8, false, FCFS), 0);
    int[] prompt = FakeExecutor.randomPrompt(1, 50);
    assertSolo(prompt, 6, engine.submit("long", prompt, maxTokens(6)).await());
    assertTrue(engine.executor.steps.stream().allMatch(s -> s.numTokens() <= 8));
  }

  @Test
  void smallCachePreemptsButEveryRequestCompletesUnchanged() throws Exception {
    engine = new FakeEngine(new FakeExecutor(1 + 12, 4), FakeEngine.config(6, 64, true, FCFS), 0);
    List<int[]> prompts = new ArrayList<>();
    List<Collector> collectors = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      prompts.add(FakeExecutor.randomPrompt(100 + i, 10));
      collectors.add(engine.submit("r" + i, prompts.get(i), maxTokens(20))); // 30 tokens of a 48-token cache
    }
    for (int i = 0; i < 6; i++) {
      Collector.Result r = collectors.get(i).await();
      assertSolo(prompts.get(i), 20, r);
      // Usage reports the first admission's hits: a preempted request re-hitting its own blocks is no cached prompt.
      assertEquals(0, r.last().cachedPromptTokens(), "request " + i);
    }
    EngineStatus status = drainedStatus();
    assertTrue(status.preemptions() > 0);
    assertEquals(status.totalBlocks(), status.freeBlocks());
  }

  @Test
  void withoutChunkedPrefillAPromptOfExactlyTheBudgetRuns() throws Exception {
    // Without chunking the budget must cover a whole context (100 here): a prompt of exactly the budget must run.
    engine = new FakeEngine(new FakeExecutor(64, 4), new SchedulerConfig(2, 100, false, false, FCFS, 100, 100), 0);
    int[] prompt = FakeExecutor.randomPrompt(12, 100);
    assertSolo(prompt, 1, engine.submit("budget", prompt, maxTokens(1)).await());
    assertTrue(engine.executor.steps.stream().allMatch(s -> s.numTokens() <= 100));
  }

  @Test
  void repeatedPromptIsServedFromThePrefixCache() throws Exception {
    engine = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(4, 32, true, FCFS), 0);
    int[] prompt = FakeExecutor.randomPrompt(3, 40);
    Collector.Result first = engine.submit("first", prompt, maxTokens(8)).await();
    Collector.Result second = engine.submit("second", prompt, maxTokens(8)).await();
    int[] sharesHalf = concat(Arrays.copyOf(prompt, 20), FakeExecutor.randomPrompt(4, 20));
    Collector.Result third = engine.submit("third", sharesHalf, maxTokens(8)).await();
    assertEquals(0, first.last().cachedPromptTokens());
    assertEquals(36, second.last().cachedPromptTokens(), "all full blocks but the one holding the last token");
    assertEquals(20, third.last().cachedPromptTokens());
    assertSolo(prompt, 8, second);
    assertSolo(sharesHalf, 8, third);
    assertTrue(engine.core.status().prefixCacheHits() >= 56);
  }

  @Test
  void siblingsWithTheSamePromptShareOnePrefill() throws Exception {
    engine = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(4, 64, true, FCFS), 0);
    engine.executor.holdSteps();
    Collector blocker = engine.submit("blocker", FakeExecutor.randomPrompt(9, 6), maxTokens(1));
    engine.executor.awaitStepStarted(); // the three siblings below arrive together, in one inbox drain
    int[] prompt = FakeExecutor.randomPrompt(3, 40);
    List<Collector> siblings = new ArrayList<>();
    for (int i = 0; i < 3; i++) siblings.add(engine.submit("choice-" + i, prompt, maxTokens(4)));
    engine.executor.allowSteps(1000);
    blocker.await();
    int[] cached = new int[3];
    for (int i = 0; i < 3; i++) {
      Collector.Result r = siblings.get(i).await();
      assertSolo(prompt, 4, r);
      cached[i] = r.last().cachedPromptTokens();
    }
    Arrays.sort(cached);
    assertArrayEquals(new int[] {0, 36, 36}, cached, "one prefill; the others hit all but the last block");
    // The blocker; the first sibling's prefill alone; then at once its decode beside the others' last blocks.
    assertEquals(List.of(new FakeExecutor.Step(6, 1), new FakeExecutor.Step(40, 1), new FakeExecutor.Step(9, 3)),
        engine.executor.steps.subList(0, 3));
  }

  /** A prompt of one block has no full block before its last token to share: its siblings start together. */
  @Test
  void siblingsWithAOneBlockPromptDoNotWait() throws Exception {
    engine = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(4, 64, true, FCFS), 0);
    engine.executor.holdSteps();
    Collector blocker = engine.submit("blocker", FakeExecutor.randomPrompt(9, 6), maxTokens(1));
    engine.executor.awaitStepStarted();
    int[] prompt = FakeExecutor.randomPrompt(3, 4);
    List<Collector> siblings = new ArrayList<>();
    for (int i = 0; i < 3; i++) siblings.add(engine.submit("choice-" + i, prompt, maxTokens(2)));
    engine.executor.allowSteps(1000);
    blocker.await();
    for (Collector c : siblings) assertSolo(prompt, 2, c.await());
    assertEquals(new FakeExecutor.Step(12, 3), engine.executor.steps.get(1), "three prefills in one step");
  }

  @Test
  void withoutPrefixCachingNothingIsReused() throws Exception {
    engine = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(4, 32, false, FCFS), 0);
    int[] prompt = FakeExecutor.randomPrompt(3, 40);
    engine.submit("first", prompt, maxTokens(8)).await();
    Collector.Result second = engine.submit("second", prompt, maxTokens(8)).await();
    assertEquals(0, second.last().cachedPromptTokens());
    assertSolo(prompt, 8, second);
  }

  @Test
  void abortingRunningAndWaitingRequestsFreesTheirBlocks() throws Exception {
    engine = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(1, 32, true, FCFS), 0);
    engine.executor.holdSteps();
    int[] prompt = FakeExecutor.randomPrompt(5, 10);
    Collector running = engine.submit("running", prompt, maxTokens(50));
    Collector waiting = engine.submit("waiting", FakeExecutor.randomPrompt(6, 10), maxTokens(50));
    engine.executor.awaitStepStarted();
    engine.core.abort("waiting");
    engine.core.abort("no-such-request");
    engine.executor.allowSteps(1);
    assertEquals(FakeExecutor.generate(prompt, 1)[0], running.first.get(10, TimeUnit.SECONDS).newTokenIds()[0]);
    engine.core.abort("running");
    engine.executor.allowSteps(Integer.MAX_VALUE / 2);

    Collector.Result r = running.await();
    assertEquals(FinishReason.ABORT, r.finishReason());
    assertTrue(r.tokens().length < 50);
    assertEquals(r.tokens().length, r.last().completionTokens());
    Collector.Result w = waiting.await();
    assertEquals(FinishReason.ABORT, w.finishReason());
    assertEquals(0, w.tokens().length);
    engine.assertHealthy(); // aborted because we asked, not because an audit killed the loop
    assertTrue(engine.core.status().alive(), "the loop outlives the aborts");
    int[] after = FakeExecutor.randomPrompt(7, 10);
    assertSolo(after, 3, engine.submit("after", after, maxTokens(3)).await());
    EngineStatus status = drainedStatus();
    assertEquals(status.totalBlocks(), status.freeBlocks());
  }

  /** Ids the sampler indexes the logits with must be in the vocabulary; its first and last ids are. */
  @Test
  void logitBiasAndStopTokenIdsOutsideTheVocabularyAreRefused() throws Exception {
    engine = FakeEngine.roomy();
    int[] prompt = FakeExecutor.randomPrompt(9, 4);
    int last = FakeExecutor.VOCAB - 1;
    for (int bad : new int[] {-1, FakeExecutor.VOCAB}) {
      RefusedRequestException stop = assertThrows(RefusedRequestException.class, () -> engine.submit(
          "s" + bad, prompt, SamplingParams.builder().maxTokens(2).stopTokenIds(List.of(bad)).build()));
      assertEquals("stop_token_ids", stop.what());
      assertEquals("stop_token_ids has token id " + bad + " outside the vocabulary (0.." + last + ")",
          stop.getMessage());
      RefusedRequestException bias = assertThrows(RefusedRequestException.class, () -> engine.submit(
          "b" + bad, prompt, SamplingParams.builder().maxTokens(2).logitBias(java.util.Map.of(bad, 1f)).build()));
      assertEquals("logit_bias", bias.what());
    }
    Collector.Result ok = engine.submit("ok", prompt, SamplingParams.builder().maxTokens(2)
        .stopTokenIds(List.of(0, last)).logitBias(java.util.Map.of(0, 0f, last, 0f)).build()).await();
    assertTrue(ok.finishReason() != FinishReason.ABORT, "the vocabulary's first and last ids are fine");
    engine.assertHealthy();
  }

  @Test
  void finishReasonsHaveOpenAiNames() {
    assertEquals("stop", FinishReason.STOP.apiName());
    assertEquals("length", FinishReason.LENGTH.apiName());
    assertEquals("abort", FinishReason.ABORT.apiName());
  }

  @Test
  void overloadedWhenTooManyRequestsWait() throws Exception {
    FakeExecutor executor = new FakeExecutor(64, 4);
    engine = new FakeEngine(executor, new SchedulerConfig(1, 32, true, true, FCFS, FakeEngine.MAX_MODEL_LEN, 2), 0);
    executor.holdSteps();
    engine.submit("running", FakeExecutor.randomPrompt(1, 4), maxTokens(4));
    executor.awaitStepStarted();
    engine.submit("waiting-1", FakeExecutor.randomPrompt(2, 4), maxTokens(4));
    engine.submit("waiting-2", FakeExecutor.randomPrompt(3, 4), maxTokens(4));
    executor.allowSteps(1);
    executor.awaitStepStarted(); // both waiting requests are now in the scheduler's queue
    assertEquals(2, engine.core.status().waiting());
    int[] prompt = FakeExecutor.randomPrompt(4, 4);
    assertThrows(EngineOverloadedException.class, () -> engine.submit("one-too-many", prompt, maxTokens(4)));
  }

  @Test
  void aBatchIsAdmittedOrRefusedAsAWholeAndARefusalTakesNoPlace() throws Exception {
    FakeExecutor executor = new FakeExecutor(64, 4);
    engine = new FakeEngine(executor, new SchedulerConfig(1, 32, true, true, FCFS, FakeEngine.MAX_MODEL_LEN, 8), 0);
    executor.holdSteps();
    engine.submit("running", FakeExecutor.randomPrompt(1, 4), maxTokens(4));
    executor.awaitStepStarted();
    engine.core.submitAll(batch("six", 6), collectors(6));
    EngineOverloadedException never = assertThrows(EngineOverloadedException.class,
        () -> engine.core.submitAll(batch("thirteen", 13), collectors(13)));
    assertTrue(never.getMessage().contains("can never fit"), never.getMessage());
    assertThrows(EngineOverloadedException.class, () -> engine.core.submitAll(batch("three", 3), collectors(3)));
    // The refused batches took no place: the last two places are still there for one-prompt clients.
    engine.submit("single-1", FakeExecutor.randomPrompt(20, 4), maxTokens(4));
    engine.submit("single-2", FakeExecutor.randomPrompt(21, 4), maxTokens(4));
    int[] prompt = FakeExecutor.randomPrompt(22, 4);
    assertThrows(EngineOverloadedException.class, () -> engine.submit("single-3", prompt, maxTokens(4)));
  }

  private static List<GenerationRequest> batch(String id, int size) {
    List<GenerationRequest> requests = new java.util.ArrayList<>();
    for (int i = 0; i < size; i++) {
      requests.add(new GenerationRequest(id + "-" + i, FakeExecutor.randomPrompt(100 + i, 4), maxTokens(4), 0,
          System.nanoTime()));
    }
    return requests;
  }

  private static List<OutputListener> collectors(int size) {
    List<OutputListener> listeners = new java.util.ArrayList<>();
    for (int i = 0; i < size; i++) listeners.add(new Collector());
    return listeners;
  }

  @Test
  void requestsThatCannotRunAreRefusedAtSubmit() {
    engine = FakeEngine.roomy();
    ContextLengthException tooLong = assertThrows(ContextLengthException.class,
        () -> engine.submit("a", FakeExecutor.randomPrompt(1, 100), maxTokens(40)));
    assertEquals("This model's maximum context length is 128 tokens. However, you requested 140 tokens (100 in the "
        + "messages, 40 in the completion). Please reduce the length of the messages or completion.",
        tooLong.getMessage());
    assertThrows(ContextLengthException.class, // no max_tokens: the prompt alone leaves no room
        () -> engine.submit("b", FakeExecutor.randomPrompt(1, 128), SamplingParams.builder().maxTokens(null).build()));
    IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class,
        () -> engine.submit("c", new int[] {1, FakeExecutor.VOCAB, 2}, maxTokens(4)));
    assertTrue(vocab.getMessage().contains("token id 50"), vocab.getMessage());
    assertThrows(IllegalArgumentException.class, () -> engine.submit("d", new int[] {-1}, maxTokens(4)));
  }

  @Test
  void sameSeedGivesTheSameDrawsWhateverElseIsBatched() throws Exception {
    engine = FakeEngine.roomy();
    SamplingParams seeded = SamplingParams.builder().seed(1234L).maxTokens(10).build();
    int[] alone = FakeExecutor.randomPrompt(1, 6);
    int[] batched = FakeExecutor.randomPrompt(2, 9);
    int[] otherSeed = FakeExecutor.randomPrompt(3, 6);
    engine.submit("alone", alone, seeded).await();
    List<Collector> crowd = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      crowd.add(engine.submit("crowd" + i, FakeExecutor.randomPrompt(10 + i, 3 + i), maxTokens(12)));
    }
    Collector inCrowd = engine.submit("batched", batched, seeded);
    engine.submit("other-seed", otherSeed, seeded.toBuilder().seed(99L).build()).await();
    inCrowd.await();
    for (Collector c : crowd) c.await();

    List<Double> drawsAlone = engine.executor.uniforms(alone);
    assertEquals(10, drawsAlone.size());
    assertEquals(drawsAlone, engine.executor.uniforms(batched));
    assertNotEquals(drawsAlone, engine.executor.uniforms(otherSeed));
  }

  @Test
  void shutdownLetsRunningRequestsFinish() throws Exception {
    engine = FakeEngine.roomy();
    engine.executor.holdSteps();
    List<Collector> collectors = new ArrayList<>();
    for (int i = 0; i < 3; i++) collectors.add(engine.submit("r" + i, FakeExecutor.randomPrompt(i, 5), maxTokens(10)));
    engine.executor.awaitStepStarted();
    CompletableFuture<Boolean> clean = CompletableFuture.supplyAsync(() -> {
      try {
        return engine.core.shutdown(Duration.ofSeconds(10));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    engine.executor.allowSteps(Integer.MAX_VALUE / 2);
    assertTrue(clean.get(10, TimeUnit.SECONDS));
    for (Collector c : collectors) assertEquals(FinishReason.LENGTH, c.await().finishReason());
    int[] prompt = FakeExecutor.randomPrompt(9, 5);
    assertThrows(EngineOverloadedException.class, () -> engine.submit("late", prompt, maxTokens(4)));
  }

  @Test
  void shutdownRightAfterSubmitWaitsForTheRequest() throws Exception {
    engine = FakeEngine.roomy();
    int[] prompt = FakeExecutor.randomPrompt(8, 6);
    Collector c = engine.submit("just-in", prompt, maxTokens(40));
    assertTrue(engine.core.shutdown(Duration.ofSeconds(10)), "a request in the inbox is work still to drain");
    assertSolo(prompt, 40, c.await());
  }

  @Test
  void shutdownWithoutGraceAbortsPendingWork() throws Exception {
    engine = FakeEngine.roomy();
    engine.executor.holdSteps();
    Collector running = engine.submit("running", FakeExecutor.randomPrompt(1, 5), maxTokens(10));
    engine.executor.awaitStepStarted();
    Collector queued = engine.submit("queued", FakeExecutor.randomPrompt(2, 5), maxTokens(10));
    assertFalse(engine.core.shutdown(Duration.ZERO));
    assertEquals(FinishReason.ABORT, running.await().finishReason());
    assertEquals(FinishReason.ABORT, queued.await().finishReason());
    engine.assertHealthy(); // aborted by the shutdown, not by an audit killing the loop
    EngineStatus status = engine.core.status();
    assertEquals(status.totalBlocks(), status.freeBlocks());
  }

  @Test
  void requestsAtTheExactLimitsRunAndOneTokenMoreIsRefused() throws Exception {
    engine = new FakeEngine(new FakeExecutor(1 + 10, 4), FakeEngine.config(2, 64, true, FCFS), 0); // 40 tokens
    int[] fits = FakeExecutor.randomPrompt(1, 30);
    assertSolo(fits, 10, engine.submit("fits", fits, maxTokens(10)).await());
    int[] longer = FakeExecutor.randomPrompt(2, 31);
    IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
        () -> engine.submit("too-big", longer, maxTokens(10)));
    assertEquals("prompt (31 tokens) plus max_tokens (10) exceeds the KV cache capacity of 40 tokens",
        full.getMessage());
    engine.close();

    engine = FakeEngine.roomy(); // context 128, cache 252 tokens
    int[] hundred = FakeExecutor.randomPrompt(3, 100);
    assertSolo(hundred, 28, engine.submit("context", hundred, maxTokens(28)).await());
    ContextLengthException over = assertThrows(ContextLengthException.class,
        () -> engine.submit("over", hundred, maxTokens(29)));
    assertTrue(over.getMessage().contains("you requested 129 tokens (100 in the messages, 29 in the completion)"),
        over.getMessage());
    int[] oneShort = FakeExecutor.randomPrompt(4, 127);
    Collector.Result rest = engine.submit("rest", oneShort, SamplingParams.builder().temperature(0).maxTokens(null)
        .build()).await();
    assertEquals(1, rest.last().completionTokens(), "no max_tokens: up to the context");
    assertEquals(FinishReason.LENGTH, rest.finishReason());
    int[] one = FakeExecutor.randomPrompt(5, 4);
    assertSolo(one, 1, engine.submit("one", one, maxTokens(1)).await());
    assertThrows(ContextLengthException.class, () -> engine.submit("zero", one, maxTokens(0)));
    int[] lastId = {FakeExecutor.VOCAB - 1, 0};
    assertSolo(lastId, 2, engine.submit("last-id", lastId, maxTokens(2)).await());
    IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class,
        () -> engine.submit("vocab", new int[] {FakeExecutor.VOCAB}, maxTokens(1)));
    assertEquals("token id 50 is outside the vocabulary (0..49)", vocab.getMessage());
  }

  @Test
  void outputsLongerThanTheFirstBufferGrowIt() throws Exception {
    engine = FakeEngine.roomy();
    int[] prompt = FakeExecutor.randomPrompt(6, 5);
    assertSolo(prompt, 120, engine.submit("long", prompt, maxTokens(120)).await()); // past 64 and 128 output slots
  }

  @Test
  void aLoopThatDiesAbortsEveryRequestAndSaysWhy() throws Exception {
    FakeExecutor fake = new FakeExecutor(64, 4);
    barista.engine.StepExecutor failing = new barista.engine.StepExecutor() {
      @Override
      public barista.engine.sampling.SampleResult execute(List<barista.engine.ScheduledSequence> sequences) {
        throw new IllegalStateException("device lost");
      }

      @Override
      public int numBlocks() {
        return fake.numBlocks();
      }

      @Override
      public int blockSize() {
        return fake.blockSize();
      }
    };
    EngineCore core = new EngineCore(failing, FakeEngine.config(4, 32, true, FCFS),
        new EngineCore.Limits(FakeEngine.MAX_MODEL_LEN, FakeExecutor.VOCAB, new int[] {0}), LetterDetokenizer.FACTORY,
        1);
    DataParallelEngine both = new DataParallelEngine(List.of(core)); // its death is any engine's
    try {
      assertFalse(core.death().toCompletableFuture().isDone());
      Collector a = new Collector();
      core.submit(new GenerationRequest("a", FakeExecutor.randomPrompt(1, 6), maxTokens(4), 0, System.nanoTime()), a);
      assertEquals(FinishReason.ABORT, a.await().finishReason());
      assertEquals("device lost", core.failure().getMessage());
      // The server learns of it (and shuts down for a restart), after every request got its answer.
      assertSame(core.failure(), core.death().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS));
      assertSame(core.failure(), both.death().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS));
      // Later requests never wait for a loop that no longer runs: refused (503) once it has ended, aborted if they
      // slipped in while it was ending.
      for (int i = 0; i < 50; i++) {
        Collector late = new Collector();
        try {
          core.submit(new GenerationRequest("late" + i, FakeExecutor.randomPrompt(2, 6), maxTokens(4), 0,
              System.nanoTime()), late);
          assertEquals(FinishReason.ABORT, late.await().finishReason());
        } catch (EngineOverloadedException refused) {
          assertTrue(refused.getMessage().contains("device lost"), refused.getMessage());
        }
      }
    } finally {
      core.close(); // joins the loop's thread, which publishes its last status on the way out
    }
    assertFalse(core.status().alive());
    EngineStatus status = core.status();
    assertEquals(status.totalBlocks(), status.freeBlocks(), "the aborted request's blocks are free");
  }

  private static int[] concat(int[] a, int[] b) {
    int[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
