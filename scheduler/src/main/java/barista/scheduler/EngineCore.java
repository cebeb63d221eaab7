package barista.scheduler;

import barista.engine.StepExecutor;
import barista.engine.StepPipeline;
import barista.engine.sampling.RefusedRequestException;
import barista.engine.sampling.SampleResult;
import barista.kvcache.KvCacheManager;
import barista.kvcache.PrefixCacheStats;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine loop on its own thread: take new requests and aborts from the inbox, schedule a step, run it, deliver
 * the outputs to each request's listener, repeat; sleep when there is no work. Callers never wait on it: submit and
 * abort only enqueue. The loop never waits on the network: listeners must hand off without blocking.
 */
public final class EngineCore implements EngineClient, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EngineCore.class);
  private static final long WEDGED_NANOS = TimeUnit.SECONDS.toNanos(30);

  /** Engine-side facts the front end checks requests against. */
  public record Limits(int maxModelLen, int vocabSize, int[] eosTokenIds) {}

  private final StepExecutor executor;
  private final SchedulerConfig config;
  private final Limits limits;
  private final Detokenizer.Factory detokenizers;
  private final KvCacheManager kv;
  private final Scheduler scheduler;
  private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
  private final AtomicInteger queued = new AtomicInteger(); // submitted, not yet in the scheduler
  private volatile int schedulerWaiting; // the scheduler's waiting queue, as last seen by the engine thread
  private final Map<String, Request> byId = new HashMap<>(); // engine thread only
  private final SplittableRandom seeds;
  private final Thread thread;
  private long nextSeqId;
  private volatile boolean accepting = true;
  private volatile boolean stopping;
  private volatile long lastProgressNanos = System.nanoTime();
  private volatile EngineStatus status;
  private volatile boolean idle; // set by the engine thread only when it has no work at all
  private volatile Throwable failure; // what killed the loop; null while it has not died
  private final CompletableFuture<Throwable> death = new CompletableFuture<>();
  private final StepTokenHistogram stepTokens = new StepTokenHistogram();
  private volatile boolean loopEnded; // no engine thread drains the inbox any more
  private final Object statusChanged = new Object();
  private final StepPipeline pipeline; // null: synchronous scheduling
  private final OutputStage outputStage; // null: outputs are made on the engine thread

  public EngineCore(StepExecutor executor, SchedulerConfig config, Limits limits, Detokenizer.Factory detokenizers,
      long seed) {
    this.executor = executor;
    this.config = config;
    this.limits = limits;
    this.detokenizers = detokenizers;
    this.kv = new KvCacheManager(executor.numBlocks(), executor.blockSize(), config.enablePrefixCaching());
    this.scheduler = new Scheduler(config, kv, executor.graphTokens());
    this.seeds = new SplittableRandom(seed);
    this.pipeline = config.asyncScheduling() ? new StepPipeline(executor) : null;
    this.outputStage = config.asyncScheduling()
        ? new OutputStage(Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 4))) : null;
    if (pipeline != null) {
      log.info("Asynchronous scheduling: each step is scheduled while the one before runs; outputs are made on {} "
          + "output thread(s)", outputStage.numThreads());
    }
    publishStatus();
    this.thread = new Thread(this::loop, "barista-engine");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void submit(GenerationRequest request, OutputListener listener) {
    submitAll(List.of(request), List.of(listener));
  }

  @Override
  public void submitAll(List<GenerationRequest> requests, List<OutputListener> listeners) {
    int[] maxTokens = new int[requests.size()];
    for (int i = 0; i < maxTokens.length; i++) maxTokens[i] = checkFits(requests.get(i));
    if (!accepting) throw new EngineOverloadedException("the server is shutting down");
    if (loopEnded) throw stopped();
    reserveWaiting(requests.size());
    inbox.add(() -> {
      for (int i = 0; i < maxTokens.length; i++) admit(requests.get(i), listeners.get(i), maxTokens[i]);
    });
    if (loopEnded) abortAll(); // the loop ended between the check and the add: nobody else drains the inbox
  }

  /**
   * Takes {@code count} places in the waiting queue, or none: a refusal leaves the count untouched, so a refused
   * batch never makes a concurrent request look over the limit.
   */
  private void reserveWaiting(int count) {
    int limit = config.maxWaitingRequests();
    if (count > limit) {
      throw new EngineOverloadedException(count + " requests at once can never fit --max-waiting-requests "
          + limit + "; send fewer prompts or choices per request");
    }
    while (true) {
      int current = queued.get();
      if (current + count + schedulerWaiting > limit) {
        throw new EngineOverloadedException("too many waiting requests (" + limit + "); retry later");
      }
      if (queued.compareAndSet(current, current + count)) return;
    }
  }

  private EngineOverloadedException stopped() {
    Throwable t = failure;
    return new EngineOverloadedException(t == null ? "the engine has stopped"
        : "the engine stopped after an error (" + t + "); the server needs a restart");
  }

  /**
   * Once the loop has ended: admits what is still queued and aborts every request, so none waits forever. Runs on
   * the engine thread as it leaves, and on a caller whose request slipped in after that.
   */
  private synchronized void abortAll() {
    Runnable cmd;
    while ((cmd = inbox.poll()) != null) cmd.run();
    for (Request r : byId.values()) {
      scheduler.remove(r);
      deliver(r, abortOutput(r));
    }
    byId.clear();
  }

  /** Validates what only the engine knows; returns the effective max_tokens. */
  private int checkFits(GenerationRequest r) {
    int[] prompt = r.promptTokenIds();
    if (prompt.length == 0) throw new IllegalArgumentException("the prompt must contain at least one token");
    for (int t : prompt) {
      if (t < 0 || t >= limits.vocabSize()) {
        throw new IllegalArgumentException("token id " + t + " is outside the vocabulary (0.." + (limits.vocabSize() - 1) + ")");
      }
    }
    if (r.grammar() != null && r.grammar().maskSize() != limits.vocabSize()) {
      throw new IllegalArgumentException("the constraint was compiled for a vocabulary of " + r.grammar().maskSize()
          + " tokens, the model has " + limits.vocabSize());
    }
    // The sampler indexes the logits with these ids (bias, and stop ids banned until min_tokens): one outside the
    // vocabulary would fail the whole step, so it is refused here.
    for (int t : r.params().logitBias().keySet()) checkInVocabulary(t, "logit_bias");
    for (int t : r.params().stopTokenIds()) checkInVocabulary(t, "stop_token_ids");
    if (r.grammar() != null && r.params().reasoningBudget() != null) {
      // A spent budget forces </think>, which no constraint's grammar allows: the two cannot share a request.
      throw new RefusedRequestException("reasoning_effort",
          "a reasoning budget cannot be combined with a structured-output constraint");
    }
    Integer requested = r.params().maxTokens();
    int maxTokens = requested == null ? limits.maxModelLen() - prompt.length : requested;
    if (maxTokens < 1 || prompt.length + maxTokens > limits.maxModelLen()) {
      throw new ContextLengthException(limits.maxModelLen(), prompt.length, requested == null ? 0 : requested);
    }
    long capacity = (long) (executor.numBlocks() - 1) * executor.blockSize();
    if (prompt.length + maxTokens > capacity) {
      throw new IllegalArgumentException("prompt (" + prompt.length + " tokens) plus max_tokens (" + maxTokens
          + ") exceeds the KV cache capacity of " + capacity + " tokens");
    }
    return maxTokens;
  }

  private void checkInVocabulary(int token, String field) {
    if (token < 0 || token >= limits.vocabSize()) {
      throw new RefusedRequestException(field, field + " has token id " + token + " outside the vocabulary (0.."
          + (limits.vocabSize() - 1) + ")");
    }
  }

  private void admit(GenerationRequest g, OutputListener listener, int maxTokens) {
    if (byId.containsKey(g.requestId())) {
      queued.decrementAndGet();
      listener.onOutput(RequestOutput.abort(g.requestId(), g.promptTokenIds().length, 0, 0, 0, 0));
      return;
    }
    long seed = g.params().seed() != null ? g.params().seed() : seeds.nextLong();
    StopChecker stops = new StopChecker(g.params(), limits.eosTokenIds(),
        detokenizers.create(g.params().skipSpecialTokens()));
    Request r = new Request(nextSeqId++, g, maxTokens, seed, stops, listener);
    byId.put(r.id, r);
    scheduler.add(r);
    schedulerWaiting = scheduler.numWaiting(); // before leaving queued: submit may overcount, never undercount
    queued.decrementAndGet();
  }

  @Override
  public void abort(String requestId) {
    inbox.add(() -> {
      Request r = byId.remove(requestId);
      if (r != null && scheduler.remove(r)) {
        deliver(r, abortOutput(r));
      }
    });
  }

  private static RequestOutput abortOutput(Request r) {
    return RequestOutput.abort(r.id, r.numPrompt, Math.max(0, r.numCachedPrompt), r.numOutput(), r.queuedNanos,
        r.scheduledNanos);
  }

  private void loop() {
    try {
      if (pipeline != null) {
        asyncLoop();
        return;
      }
      while (!stopping) {
        drainInbox(!scheduler.hasWork());
        if (!scheduler.hasWork()) continue;
        ScheduledBatch batch = scheduler.schedule();
        schedulerWaiting = scheduler.numWaiting();
        if (batch.isEmpty()) {
          throw new IllegalStateException("scheduler made no progress with " + scheduler.numWaiting()
              + " waiting and " + scheduler.numRunning() + " running requests");
        }
        stepTokens.record(batch.numTokens());
        SampleResult result = executor.execute(batch.sequences);
        List<RequestOutput> outputs = scheduler.update(batch, result);
        lastProgressNanos = System.nanoTime();
        publishStatus(); // before delivering: a client holding its answer never sees itself still running
        for (RequestOutput out : outputs) {
          Request r = byId.get(out.requestId());
          if (out.finished()) byId.remove(out.requestId());
          deliver(r, out);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t;
      log.error("Engine loop died; aborting all requests", failure);
    } finally {
      loopEnded = true; // from here on, submit refuses, or aborts what slipped in
      if (pipeline != null) pipeline.close(); // the step running finishes before its requests' blocks are freed
      abortAll();
      if (outputStage != null) outputStage.close();
      publishStatus();
      if (failure != null) death.complete(failure); // after the aborts: every request has its answer first
    }
  }

  /** A step launched on the pipeline, not yet applied. */
  private record InFlightStep(ScheduledBatch batch, java.util.concurrent.CompletableFuture<SampleResult> result) {}

  /**
   * Asynchronous scheduling (vLLM V1's {@code --async-scheduling}, its engine core's batch queue of two): step N+1
   * is scheduled and launched before step N's result is applied, so the device runs one step while the engine
   * thread applies the one before and schedules the one after. Each iteration: collect the stop strings the output
   * threads found in the last applied step, schedule and launch a step unless two are in flight, then wait for the
   * oldest, apply it at the token level and hand its text to the output threads.
   */
  private void asyncLoop() throws InterruptedException, ExecutionException {
    ArrayDeque<InFlightStep> inFlight = new ArrayDeque<>();
    OutputStage.Step outputs = null; // the last applied step's, in the output stage
    boolean textStopsApplied = false;
    while (!stopping) {
      drainInbox(!scheduler.hasWork() && inFlight.isEmpty());
      if (outputs != null && !textStopsApplied) {
        for (Request r : outputs.awaitTextStops()) {
          scheduler.remove(r);
          byId.remove(r.id, r);
        }
        textStopsApplied = true;
      }
      boolean launched = false;
      if (inFlight.size() < 2 && scheduler.hasWork()) {
        ScheduledBatch batch = scheduler.schedule();
        schedulerWaiting = scheduler.numWaiting();
        if (!batch.isEmpty()) {
          stepTokens.record(batch.numTokens());
          inFlight.add(new InFlightStep(batch, pipeline.launch(batch.sequences)));
          launched = true;
        } else if (inFlight.isEmpty()) {
          throw new IllegalStateException("scheduler made no progress with " + scheduler.numWaiting()
              + " waiting and " + scheduler.numRunning() + " running requests");
        }
      }
      if (inFlight.isEmpty() || (launched && inFlight.size() < 2)) continue;
      InFlightStep step = inFlight.poll();
      SampleResult result = step.result().get();
      List<Scheduler.SampledToken> sampled = scheduler.applyStep(step.batch(), result);
      for (Scheduler.SampledToken t : sampled) if (t.finished()) byId.remove(t.request().id, t.request());
      lastProgressNanos = System.nanoTime();
      publishStatus();
      if (outputs != null) outputs.awaitDone(); // at most two steps' outputs queued
      outputs = outputStage.dispatch(sampled);
      textStopsApplied = false;
    }
  }

  private void drainInbox(boolean block) throws InterruptedException {
    Runnable cmd = inbox.poll();
    if (cmd == null && block) {
      idle = true; // nothing scheduled and nothing queued: shutdown may stop here
      lastProgressNanos = System.nanoTime(); // idle is not wedged
      publishStatus();
      cmd = inbox.poll(100, TimeUnit.MILLISECONDS);
    }
    if (cmd != null) idle = false;
    while (cmd != null) {
      cmd.run();
      cmd = inbox.poll();
    }
  }

  private void deliver(Request r, RequestOutput out) {
    if (outputStage != null) {
      outputStage.deliver(r, out); // after the request's outputs still in the stage
      return;
    }
    try {
      r.listener.onOutput(out);
    } catch (RuntimeException e) {
      log.warn("Output listener of request {} failed; aborting it", out.requestId(), e);
      if (!out.finished() && scheduler.remove(r)) byId.remove(r.id);
    }
  }

  private void publishStatus() {
    schedulerWaiting = scheduler.numWaiting();
    PrefixCacheStats p = kv.prefixCacheStats();
    status = new EngineStatus(true, !stopping, scheduler.numRunning(), scheduler.numWaiting() + queued.get(),
        kv.numBlocks() - 1, kv.numFreeBlocks(), kv.usage(), scheduler.preemptions(), p.queries(), p.hits());
    synchronized (statusChanged) {
      statusChanged.notifyAll();
    }
  }

  private boolean isDrained() {
    return idle && inbox.isEmpty() && queued.get() == 0;
  }

  /**
   * What killed the engine loop, or null if it has not died (a clean stop is not a death). Lets tests tell an abort
   * they caused from one the loop's death caused, such as a failed audit in a test executor.
   */
  Throwable failure() {
    return failure;
  }

  @Override
  public CompletionStage<Throwable> death() {
    return death;
  }

  @Override
  public StepTokenHistogram.Snapshot stepTokens() {
    return stepTokens.snapshot();
  }

  @Override
  public EngineStatus status() {
    EngineStatus s = status;
    boolean wedged = (s.running() + s.waiting() > 0) && System.nanoTime() - lastProgressNanos > WEDGED_NANOS;
    boolean alive = thread.isAlive() && !wedged;
    return alive == s.alive() ? s : new EngineStatus(s.ready(), alive, s.running(), s.waiting(), s.totalBlocks(),
        s.freeBlocks(), s.kvCacheUsage(), s.preemptions(), s.prefixCacheQueries(), s.prefixCacheHits());
  }

  /**
   * Stops accepting, lets running and waiting requests finish for up to {@code grace}, then aborts the rest and
   * stops the loop. Returns true when everything finished in time.
   */
  public boolean shutdown(Duration grace) throws InterruptedException {
    accepting = false;
    long deadline = System.nanoTime() + grace.toNanos();
    synchronized (statusChanged) {
      while (thread.isAlive() && !isDrained()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) break;
        TimeUnit.NANOSECONDS.timedWait(statusChanged, left);
      }
    }
    boolean clean = isDrained();
    close();
    return clean;
  }

  @Override
  public void close() {
    accepting = false;
    stopping = true;
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
