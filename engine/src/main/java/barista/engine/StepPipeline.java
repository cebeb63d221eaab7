package barista.engine;

import barista.engine.sampling.SampleResult;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Asynchronous scheduling's device side (after vLLM V1's {@code use_async_scheduling} model runner): steps run on a
 * thread of their own, in the order launched, so the engine thread schedules step N+1 and applies step N-1 while
 * step N runs. A decode row scheduled before its previous token was known computes one position more than it has
 * tokens for; that position's input is the token the same sequence sampled in the step just before, which this
 * pipeline feeds from that step's result without the scheduler taking part. A row that feeds a token sees it in its
 * history too (penalties count it), so every row samples as the synchronous path would.
 */
public final class StepPipeline implements AutoCloseable {
  private final StepExecutor executor;
  private final ExecutorService worker;
  private Map<Long, Integer> lastSampled = Map.of(); // worker thread only
  private volatile Throwable failed;

  public StepPipeline(StepExecutor executor) {
    this.executor = executor;
    this.worker = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "barista-step");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Queues a step behind those already launched; its result (null when no row samples) completes the future. Once a
   * step has failed, every later one fails too: their inputs may depend on it.
   */
  public CompletableFuture<SampleResult> launch(List<ScheduledSequence> sequences) {
    return CompletableFuture.supplyAsync(() -> run(sequences), worker);
  }

  private SampleResult run(List<ScheduledSequence> sequences) {
    if (failed != null) throw new IllegalStateException("an earlier step failed", failed);
    try {
      List<ScheduledSequence> fed = sequences.stream().map(this::feed).toList();
      SampleResult result = executor.execute(fed);
      Map<Long, Integer> sampled = new HashMap<>();
      int row = 0;
      for (ScheduledSequence s : fed) if (s.sample()) sampled.put(s.seqId(), result.tokens()[row++]);
      lastSampled = sampled;
      return result;
    } catch (RuntimeException | Error e) {
      failed = e;
      throw e;
    }
  }

  /** The row as the executor must see it: with the token sampled for it by the previous step, if it reads one. */
  private ScheduledSequence feed(ScheduledSequence s) {
    int known = s.numPrompt() + s.numOutput();
    int end = s.numComputed() + s.numNew();
    if (end <= known) return s;
    Integer token = lastSampled.get(s.seqId());
    if (end != known + 1 || token == null) {
      throw new IllegalStateException("sequence " + s.seqId() + " computes up to position " + end + " with "
          + known + " tokens known, and the previous step sampled " + token + " for it");
    }
    // The token goes beside the engine thread's array, not into a copy of it: a copy of every row's whole history
    // each step (1 MB a step at 256 streams of 1,000 tokens) was most of what this thread allocated.
    return new ScheduledSequence(s.seqId(), s.tokens(), s.numPrompt(), s.numOutput() + 1, s.numComputed(),
        s.numNew(), s.blockTable(), s.sample(), s.params(), s.uniform(), s.banned(), s.allowed(), s.forcedToken(),
        s.promptLogprobs(), token);
  }

  /**
   * Stops the pipeline: steps not started are dropped, and the one running is waited for (up to 30 s, even by an
   * interrupted thread: the engine's is, when it stops), so the device and its buffers may be freed afterwards.
   * Never throws: the engine closes it on its way out, before it answers every request.
   */
  @Override
  public void close() {
    worker.shutdownNow();
    boolean interrupted = Thread.interrupted();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        if (!worker.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
          org.slf4j.LoggerFactory.getLogger(StepPipeline.class).error("A step still runs 30 s after the engine stopped");
        }
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }
}
