package barista.scheduler;

import static barista.scheduler.SchedulerConfig.Policy.FCFS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.sampling.SamplingParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Routing, abort and status of engines side by side, over fake executors. */
class DataParallelEngineTest {
  private final List<FakeEngine> fakes = new ArrayList<>();

  @AfterEach
  void close() {
    AssertionError first = null;
    for (FakeEngine f : fakes) {
      try {
        f.close(); // asserts no audit failed and no loop died on that engine
      } catch (AssertionError e) {
        if (first == null) first = e;
      }
    }
    if (first != null) throw first;
  }

  private DataParallelEngine engines(int n) {
    for (int i = 0; i < n; i++) fakes.add(FakeEngine.roomy());
    return new DataParallelEngine(fakes.stream().map(f -> f.core).toList());
  }

  private Collector submit(EngineClient engine, String id, int[] prompt, int maxTokens) {
    Collector c = new Collector();
    fakes.forEach(f -> f.track(c)); // its late outputs fail the test whichever engine served it
    engine.submit(new GenerationRequest(id, prompt, SamplingParams.greedy(maxTokens), 0, System.nanoTime()), c);
    return c;
  }

  @Test
  void newRequestsGoToTheEngineWithFewestInFlight() throws Exception {
    DataParallelEngine dp = engines(2);
    fakes.forEach(f -> f.executor.holdSteps());
    submit(dp, "a", FakeExecutor.randomPrompt(1, 8), 4);
    submit(dp, "b", FakeExecutor.randomPrompt(2, 8), 4);
    submit(dp, "c", FakeExecutor.randomPrompt(3, 8), 4);
    assertArrayEquals(new long[] {2, 1}, dp.submittedCounts());
    submit(dp, "d", FakeExecutor.randomPrompt(4, 8), 4);
    assertArrayEquals(new long[] {2, 2}, dp.submittedCounts());
  }

  @Test
  void tiesGoToTheEngineWithFewestBlocksInUse() throws Exception {
    DataParallelEngine dp = engines(2);
    fakes.forEach(f -> f.executor.holdSteps());
    submit(dp, "long", FakeExecutor.randomPrompt(1, 40), 8); // engine 0: ten blocks
    submit(dp, "short", FakeExecutor.randomPrompt(2, 4), 8); // engine 1: one block
    for (FakeEngine f : fakes) {
      f.executor.awaitStepStarted();
      f.executor.allowSteps(1);
      f.executor.awaitStepStarted(); // the first step is done and its blocks are in the published status
    }
    submit(dp, "next", FakeExecutor.randomPrompt(3, 4), 1); // one in flight on each: fewer blocks wins
    assertArrayEquals(new long[] {1, 2}, dp.submittedCounts());
  }

  @Test
  void eachRequestMatchesItsSoloRunAndAbortReachesItsEngine() throws Exception {
    DataParallelEngine dp = engines(2);
    fakes.forEach(f -> f.executor.holdSteps());
    Collector doomed = submit(dp, "doomed", FakeExecutor.randomPrompt(9, 8), 50);
    Collector other = submit(dp, "other", FakeExecutor.randomPrompt(8, 8), 50);
    dp.abort("doomed");
    fakes.forEach(f -> f.executor.allowSteps(Integer.MAX_VALUE / 2));
    assertEquals(FinishReason.ABORT, doomed.await().finishReason());
    fakes.forEach(FakeEngine::assertHealthy); // the abort we asked for, not a loop killed by an audit
    assertTrue(dp.status().alive());
    assertArrayEquals(FakeExecutor.generate(FakeExecutor.randomPrompt(8, 8), 50), other.await().tokens());

    List<Collector> results = new ArrayList<>();
    for (int i = 0; i < 10; i++) results.add(submit(dp, "r" + i, FakeExecutor.randomPrompt(100 + i, 6), 12));
    for (int i = 0; i < 10; i++) {
      assertArrayEquals(FakeExecutor.generate(FakeExecutor.randomPrompt(100 + i, 6), 12), results.get(i).await().tokens());
    }
    assertTrue(dp.submittedCounts()[0] > 0 && dp.submittedCounts()[1] > 0);
    assertTrue(dp.shutdown(Duration.ofSeconds(10)));
    EngineStatus s = dp.status();
    assertEquals(0, s.running() + s.waiting());
    assertEquals(s.totalBlocks(), s.freeBlocks());
  }

  @Test
  void aFinishedRequestNoLongerCountsAsInFlight() throws Exception {
    DataParallelEngine dp = engines(2);
    fakes.get(0).executor.holdSteps();
    submit(dp, "held", FakeExecutor.randomPrompt(2, 8), 50); // engine 0 (a tie goes to the first), stays in flight
    submit(dp, "a", FakeExecutor.randomPrompt(1, 8), 2).await(); // engine 1: fewer in flight
    submit(dp, "c", FakeExecutor.randomPrompt(3, 8), 2).await(); // engine 1 again: a no longer counts
    submit(dp, "d", FakeExecutor.randomPrompt(4, 8), 2).await(); // and c neither
    assertArrayEquals(new long[] {1, 3}, dp.submittedCounts(), "finished requests leave the in-flight count");
    fakes.get(0).executor.allowSteps(Integer.MAX_VALUE / 2);
  }

  @Test
  void statusSumsWaitingPreemptionsAndPrefixCacheCounts() throws Exception {
    fakes.add(new FakeEngine(new FakeExecutor(1 + 12, 4), FakeEngine.config(6, 64, true, FCFS), 0)); // preempts
    fakes.add(new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(1, 32, true, FCFS), 0)); // one at a time
    DataParallelEngine dp = new DataParallelEngine(fakes.stream().map(f -> f.core).toList());
    List<Collector> small = new ArrayList<>();
    fakes.get(0).executor.holdSteps(); // all six queued before the first step ends: together they overflow the cache
    for (int i = 0; i < 6; i++) {
      Collector c = new Collector();
      fakes.get(0).track(c);
      fakes.get(0).core.submit(new GenerationRequest("p" + i, FakeExecutor.randomPrompt(100 + i, 10),
          SamplingParams.greedy(20), 0, System.nanoTime()), c);
      small.add(c);
    }
    fakes.get(0).executor.allowSteps(Integer.MAX_VALUE / 2);
    for (Collector c : small) c.await();
    int[] repeated = FakeExecutor.randomPrompt(200, 9);
    fakes.get(1).submit("warm", repeated, SamplingParams.greedy(2)).await(); // its two full blocks are cached
    fakes.get(1).executor.holdSteps();
    for (int i = 0; i < 3; i++) {
      fakes.get(1).submit("w" + i, i == 0 ? repeated : FakeExecutor.randomPrompt(200 + i, 8), SamplingParams.greedy(4));
    }
    fakes.get(1).executor.awaitStepStarted();
    fakes.get(1).executor.allowSteps(1);
    fakes.get(1).executor.awaitStepStarted(); // the scheduler has published its queue
    EngineStatus e0 = fakes.get(0).core.status();
    EngineStatus e1 = fakes.get(1).core.status();
    EngineStatus s = dp.status();
    assertTrue(e0.preemptions() > 0 && e1.waiting() == 2 && e0.prefixCacheQueries() > 0, e0 + " " + e1);
    assertEquals(e0.waiting() + e1.waiting(), s.waiting());
    assertEquals(e0.preemptions() + e1.preemptions(), s.preemptions());
    assertEquals(e0.prefixCacheQueries() + e1.prefixCacheQueries(), s.prefixCacheQueries());
    assertEquals(e0.prefixCacheHits() + e1.prefixCacheHits(), s.prefixCacheHits());
    assertEquals(8, e1.prefixCacheHits(), "w0 hit the two blocks warm cached");
    fakes.get(1).executor.allowSteps(Integer.MAX_VALUE / 2);
  }

  @Test
  void shutdownWaitsForRunningRequestsAndSaysWhenItCouldNot() throws Exception {
    DataParallelEngine dp = engines(2);
    Collector running = submit(dp, "running", FakeExecutor.randomPrompt(1, 8), 60);
    assertTrue(dp.shutdown(Duration.ofSeconds(10)), "the grace is enough to finish");
    assertEquals(FinishReason.LENGTH, running.await().finishReason());

    DataParallelEngine held = engines(2);
    fakes.get(2).executor.holdSteps();
    Collector stuck = submit(held, "stuck", FakeExecutor.randomPrompt(2, 8), 4);
    assertFalse(held.shutdown(Duration.ofMillis(200)), "a held step cannot finish in time");
    assertEquals(FinishReason.ABORT, stuck.await().finishReason());
    assertThrows(EngineOverloadedException.class, () -> submit(held, "late", FakeExecutor.randomPrompt(3, 8), 2));
  }

  @Test
  void statusSumsTheEnginesAndIsDeadWhenAnyEngineIs() throws Exception {
    DataParallelEngine dp = engines(2);
    fakes.forEach(f -> f.executor.holdSteps());
    Collector a = submit(dp, "a", FakeExecutor.randomPrompt(1, 8), 4); // engine 0
    submit(dp, "b", FakeExecutor.randomPrompt(2, 8), 4); // engine 1
    fakes.forEach(f -> f.executor.allowSteps(1));
    for (FakeEngine f : fakes) {
      f.executor.awaitStepStarted();
      f.executor.awaitStepStarted();
    }
    EngineStatus s = dp.status();
    EngineStatus e0 = dp.engines().get(0).status();
    EngineStatus e1 = dp.engines().get(1).status();
    assertTrue(s.ready() && s.alive());
    assertEquals(2, s.running());
    assertEquals(e0.totalBlocks() + e1.totalBlocks(), s.totalBlocks());
    assertEquals(e0.freeBlocks() + e1.freeBlocks(), s.freeBlocks());
    assertTrue(s.freeBlocks() < s.totalBlocks());
    assertEquals((double) (s.totalBlocks() - s.freeBlocks()) / s.totalBlocks(), s.kvCacheUsage(), 1e-9);

    dp.engines().get(0).close(); // its thread stops and aborts its request
    assertEquals(FinishReason.ABORT, a.await().finishReason());
    fakes.get(0).assertHealthy(); // aborted by the close, not by an audit
    assertFalse(dp.status().alive());
    fakes.get(1).executor.allowSteps(Integer.MAX_VALUE / 2);
    Collector afterDeath = submit(dp, "c", FakeExecutor.randomPrompt(3, 8), 2); // engine 0 is idle, but dead
    assertArrayEquals(FakeExecutor.generate(FakeExecutor.randomPrompt(3, 8), 2), afterDeath.await().tokens());
    assertArrayEquals(new long[] {1, 2}, dp.submittedCounts());
    dp.engines().get(1).close();
    assertThrows(EngineOverloadedException.class, () -> submit(dp, "d", FakeExecutor.randomPrompt(4, 8), 2));
    assertFalse(dp.death().toCompletableFuture().isDone(), "engines closed cleanly are no death");
  }
}
