package barista.scheduler;

import barista.engine.sampling.SamplingParams;

/** An {@link EngineCore} over a {@link FakeExecutor}, with letters as text. */
final class FakeEngine implements AutoCloseable {
  static final int MAX_MODEL_LEN = 128;

  final FakeExecutor executor;
  final EngineCore core;

  FakeEngine(FakeExecutor executor, SchedulerConfig config, int... eosTokenIds) {
    this.executor = executor;
    this.core = new EngineCore(executor, config,
        new EngineCore.Limits(MAX_MODEL_LEN, FakeExecutor.VOCAB, eosTokenIds), LetterDetokenizer.FACTORY, 42);
  }

  /** A roomy engine: 64 blocks of 4 tokens, chunked prefill and prefix caching, EOS 0 (never produced). */
  static FakeEngine roomy() {
    return new FakeEngine(new FakeExecutor(64, 4), config(8, 32, true, "fcfs"), 0);
  }

  static SchedulerConfig config(int maxNumSeqs, int maxNumBatchedTokens, boolean prefixCaching, String policy) {
    return new SchedulerConfig(maxNumSeqs, maxNumBatchedTokens, true, prefixCaching, policy, MAX_MODEL_LEN, 100);
  }

  Collector submit(String id, int[] prompt, SamplingParams params) {
    Collector c = new Collector();
    core.submit(new GenerationRequest(id, prompt, params, 0, System.nanoTime()), c);
    return c;
  }

  @Override
  public void close() {
    core.close();
  }
}
