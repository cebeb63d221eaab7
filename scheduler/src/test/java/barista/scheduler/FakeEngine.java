package barista.scheduler;

import static barista.scheduler.SchedulerConfig.Policy.FCFS;

import barista.engine.sampling.SamplingParams;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An {@link EngineCore} over a {@link FakeExecutor}, with letters as text. {@link #close} fails the test when an audit
 * failed on the engine thread, the loop died, or a request got an output after its last one.
 */
final class FakeEngine implements AutoCloseable {
  static final int MAX_MODEL_LEN = 128;

  final FakeExecutor executor;
  final EngineCore core;
  private final List<Collector> collectors = new CopyOnWriteArrayList<>();

  FakeEngine(FakeExecutor executor, SchedulerConfig config, int... eosTokenIds) {
    this.executor = executor;
    // -Dbarista.test.asyncScheduling=true runs a whole suite with asynchronous scheduling (a check by hand: tests
    // that count steps or catch the engine mid-step expect the synchronous schedule).
    if (Boolean.getBoolean("barista.test.asyncScheduling")) config = config.withAsyncScheduling(true);
    this.core = new EngineCore(executor, config,
        new EngineCore.Limits(MAX_MODEL_LEN, FakeExecutor.VOCAB, eosTokenIds), LetterDetokenizer.FACTORY, 42);
  }

  /** A roomy engine: 64 blocks of 4 tokens, chunked prefill and prefix caching, EOS 0 (never produced). */
  static FakeEngine roomy() {
    return new FakeEngine(new FakeExecutor(64, 4), config(8, 32, true, FCFS), 0);
  }

  static SchedulerConfig config(int maxNumSeqs, int maxNumBatchedTokens, boolean prefixCaching,
      SchedulerConfig.Policy policy) {
    return new SchedulerConfig(maxNumSeqs, maxNumBatchedTokens, true, prefixCaching, policy, MAX_MODEL_LEN, 100);
  }

  Collector submit(String id, int[] prompt, SamplingParams params) {
    Collector c = new Collector();
    core.submit(new GenerationRequest(id, prompt, params, 0, System.nanoTime()), c);
    collectors.add(c);
    return c;
  }

  /** Lets a collector this engine did not create be checked at {@link #close} too. */
  Collector track(Collector c) {
    collectors.add(c);
    return c;
  }

  /**
   * Asserts, on the test thread, that nothing went wrong on the engine thread so far: after an abort, that it came
   * from the test (abort, shutdown), not from the loop dying on a failed audit.
   */
  void assertHealthy() {
    List<String> violations = executor.violations();
    if (!violations.isEmpty()) throw new AssertionError("KV-cache audit failed on the engine thread: " + violations);
    Throwable failure = core.failure();
    if (failure != null) throw new AssertionError("the engine loop died: " + failure, failure);
    for (Collector c : collectors) c.assertNoLateOutput();
  }

  @Override
  public void close() {
    core.close();
    assertHealthy();
  }
}
