package barista.scheduler;

import barista.engine.ScheduledSequence;
import barista.engine.constraint.MaskStats;
import barista.engine.sampling.SampleResult;
import barista.kvcache.KvCacheManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Iteration-level continuous batching, after vLLM v1 and nano-vllm. Each step: running requests first (one decode
 * token each, or the next chunk of a prompt), then waiting requests in policy order while the token budget, the
 * sequence limit and the KV cache allow (prefix-cache hits are not recomputed; long prompts are chunked). When the
 * cache cannot grow a running request, the newest (fcfs) or least important (priority) running request is preempted:
 * its blocks are freed and it is recomputed later from its tokens, so nothing is lost.
 *
 * <p>Confined to the engine thread.
 */
final class Scheduler {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Scheduler.class);
  private final SchedulerConfig config;
  private final KvCacheManager kv;
  private final PriorityQueue<Request> waiting;
  private final Comparator<Request> order;
  private final List<Request> running = new ArrayList<>();
  private final int graphTokens;
  private long preemptions;
  private long preemptionOrder; // preempted requests go to the front of their priority class

  Scheduler(SchedulerConfig config, KvCacheManager kv) {
    this(config, kv, 0);
  }

  /** @param graphTokens the largest step the engine replays as a CUDA graph (0: none) */
  Scheduler(SchedulerConfig config, KvCacheManager kv, int graphTokens) {
    this.config = config;
    this.kv = kv;
    this.graphTokens = graphTokens;
    Comparator<Request> arrival = Comparator.comparingLong((Request r) -> r.queueKey).thenComparingLong(r -> r.seqId);
    this.order = config.policy() == SchedulerConfig.Policy.PRIORITY
        ? Comparator.comparingInt((Request r) -> r.priority).thenComparing(arrival) : arrival;
    this.waiting = new PriorityQueue<>(order);
  }

  void add(Request r) {
    r.queueKey = r.arrivalNanos;
    waiting.add(r);
  }

  boolean hasWork() {
    return !waiting.isEmpty() || !running.isEmpty();
  }

  int numWaiting() {
    return waiting.size();
  }

  int numRunning() {
    return running.size();
  }

  long preemptions() {
    return preemptions;
  }

  /** Removes a request wherever it is and frees its blocks; false when it is not here (finished or unknown). */
  boolean remove(Request r) {
    boolean found = running.remove(r) || waiting.remove(r);
    kv.free(r.seqId);
    r.status = Request.Status.FINISHED;
    return found;
  }

  ScheduledBatch schedule() {
    ScheduledBatch batch = new ScheduledBatch();
    int budget = stepBudget();
    boolean preempted = false;
    for (int i = 0; i < running.size() && budget > 0; ) {
      Request r = running.get(i);
      int n = Math.min(r.numUncomputed(), budget);
      if (n == 0 || (r.placeholders > 0 && !mayRunAhead(r))) { // its step in flight decides what comes next
        i++;
        continue;
      }
      boolean scheduled = true;
      while (!kv.allocateSlots(r.seqId, r.numComputed, n)) {
        Request victim = victim();
        if (running.indexOf(victim) < i) { // before r: in this batch unless it was passed over
          if (batch.contains(victim)) budget += batch.remove(victim);
          i--;
        }
        preempt(victim);
        preempted = true;
        if (victim == r) {
          scheduled = false;
          break;
        }
      }
      if (!scheduled) continue; // r preempted itself (priority: it matters least); the others may still run
      batch.add(r, n);
      budget -= n;
      i++;
    }
    List<Request> deferred = new ArrayList<>();
    while (!preempted && !waiting.isEmpty() && budget > 0 && running.size() < config.maxNumSeqs()) {
      Request r = waiting.peek();
      // A preempted request whose last step is still in flight waits for its token; a request sharing its prompt
      // with a sibling's prefill (n > 1) lets the sibling fill the prefix cache, then hits it next step.
      if (r.inFlight > 0 || sharesPromptWithPrefill(r)) {
        deferred.add(waiting.poll());
        continue;
      }
      // Rows served by the prefix cache are not computed, so a request asking for its prompt's logprobs takes no
      // hits (as vLLM does); its blocks are still cached for others.
      int cached = config.enablePrefixCaching() && r.promptLogprobs == null ? kv.getComputedTokens(r.seqId, r.tokens, r.numTokens,
          r.params.cacheSalt()) : 0;
      int n = r.numTokens - cached;
      if (n > budget) {
        if (!config.enableChunkedPrefill()) break;
        n = budget;
      }
      if (!kv.allocateSlots(r.seqId, cached, n)) {
        kv.free(r.seqId);
        break;
      }
      waiting.poll();
      r.numComputed = cached;
      r.numComputedApplied = cached;
      if (r.numCachedPrompt < 0) {
        r.numCachedPrompt = Math.min(cached, r.numPrompt);
        r.scheduledNanos = System.nanoTime();
      }
      r.status = Request.Status.RUNNING;
      running.add(r);
      batch.add(r, n);
      budget -= n;
    }
    waiting.addAll(deferred);
    batch.seal(kv);
    return batch;
  }

  /**
   * The step's token budget. A step that fits the engine's largest CUDA graph replays it, where a larger one runs
   * eagerly, many times longer on the host while every decode row waits (docs/performance.md). So when all the work
   * in sight (running rows plus the prompts that could join) fits in a few graph steps, prompts are chunked to graph
   * size: a handful of prompts arriving beside decodes then costs a few graph steps instead of one eager one. A
   * bigger wave (many prompts at once) takes the whole budget: its eager steps are compute-bound, and cutting it up
   * costs throughput (capping every step did, at the highest concurrency). So does a step with more decoding rows
   * than the graph holds: a graph-sized budget would leave the last ones out of every step.
   */
  private int stepBudget() {
    int budget = config.maxNumBatchedTokens();
    if (graphTokens <= 0 || graphTokens >= budget || !config.enableChunkedPrefill()) return budget;
    long limit = (long) GRAPH_STEPS * graphTokens, pending = 0;
    int decoding = 0;
    for (Request r : running) {
      pending += r.numUncomputed();
      if (r.numUncomputed() == 1) decoding++;
    }
    if (decoding >= graphTokens) return budget;
    int room = config.maxNumSeqs() - running.size();
    for (Request r : waiting) { // heap order, not policy order: only the sum counts, and it stops past the limit
      if (pending > limit || room-- <= 0) break;
      pending += r.numUncomputed();
    }
    return pending > limit ? budget : graphTokens;
  }

  /** How many graph steps a burst of prompts may be spread over rather than run as one eager step. */
  static final int GRAPH_STEPS = 4;

  /**
   * True when a request with the same prompt is still computing the part of it this one could share (or was
   * admitted for it this step): waiting one step turns that part into prefix-cache hits instead of a second
   * prefill. Only the full blocks before the last prompt token are shared (that token is always computed), so a
   * prompt of one block or less is not worth the wait, and a sibling that itself got those blocks from the cache
   * holds nobody up.
   */
  private boolean sharesPromptWithPrefill(Request r) {
    int shareable = (r.numPrompt - 1) / kv.blockSize() * kv.blockSize();
    if (!config.enablePrefixCaching() || r.numOutput() > 0 || shareable == 0 || r.promptLogprobs != null) {
      return false;
    }
    for (Request other : running) {
      if (other.numComputedApplied < shareable && other.numPrompt == r.numPrompt
          && java.util.Arrays.equals(other.tokens, 0, r.numPrompt, r.tokens, 0, r.numPrompt)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a request whose last sample is still in flight may be scheduled now, its input token fed on the device
   * (asynchronous scheduling, after vLLM's AsyncScheduler): not when that sample reaches max_tokens or the context
   * limit (no step is wasted on a request sure to end), and not for a reasoning-budget request, whose forced token
   * depends on the token not yet known: it stays synchronous, one step in two. A constrained request runs ahead
   * with a {@link DeferredMask}.
   */
  private boolean mayRunAhead(Request r) {
    return r.reasoningBudget == null && r.numOutputScheduled() < r.maxTokens
        && r.numTokens + r.placeholders < config.maxModelLen();
  }

  private Request victim() {
    Request v = running.get(running.size() - 1);
    if (config.policy() == SchedulerConfig.Policy.PRIORITY) {
      for (Request r : running) if (order.compare(r, v) > 0) v = r;
    }
    return v;
  }

  private void preempt(Request r) {
    running.remove(r);
    kv.free(r.seqId);
    r.numComputed = 0;
    r.numComputedApplied = 0;
    r.status = Request.Status.WAITING;
    r.queueKey = Long.MIN_VALUE + preemptionOrder++;
    waiting.add(r);
    preemptions++;
  }

  /**
   * Applies a finished step: caches each request's newly full blocks, appends sampled tokens and decides whether
   * they are done. Returns the outputs to deliver, finished requests already removed. Text (detokenizing, stop
   * strings) is decided here, on the engine thread: the synchronous path.
   */
  List<RequestOutput> update(ScheduledBatch batch, SampleResult result) {
    List<RequestOutput> outputs = new ArrayList<>();
    for (SampledToken t : applyStep(batch, result)) {
      RequestOutput out = t.toOutput();
      if (out.finished() && !t.finished()) remove(t.request()); // a stop string, or a failure
      outputs.add(out);
    }
    return outputs;
  }

  /**
   * Applies a finished step up to the token level: blocks cached, tokens appended, and EOS, stop token ids,
   * max_tokens, the context limit and constraint violations decided (those requests removed). The text of each
   * token is left to {@link SampledToken#toOutput}, which the caller runs here or on an output thread. A request
   * that ended while the step ran (stopped at the previous token, aborted) gets nothing: its token is discarded.
   */
  List<SampledToken> applyStep(ScheduledBatch batch, SampleResult result) {
    List<SampledToken> sampled = new ArrayList<>();
    int row = 0;
    long maskNanos = 0; // the next step's masks of rows that ran ahead, counted for it here
    int masks = 0;
    for (int i = 0; i < batch.requests.size(); i++) {
      Request r = batch.requests.get(i);
      ScheduledSequence s = batch.sequences.get(i);
      r.inFlight--;
      int computed = s.numComputed() + s.numNew();
      if (r.status == Request.Status.RUNNING) { // else its blocks were freed (preempted, finished) since
        r.numComputedApplied = computed;
        if (config.enablePrefixCaching()) kv.cacheBlocks(r.seqId, r.tokens, computed);
      }
      if (!s.sample()) continue;
      int token = result.tokens()[row];
      TokenLogprob logprob = r.params.logprobs() == null ? null
          : new TokenLogprob(token, result.logprobs()[row], result.topIds()[row], result.topLogprobs()[row]);
      row++;
      DeferredMask nextMask = r.nextMask; // the step in flight after this one waits for it to sample
      r.nextMask = null;
      if (r.status == Request.Status.FINISHED) { // the one extra token of a request that stopped
        if (nextMask != null) nextMask.completeDiscarded();
        continue;
      }
      r.placeholders--;
      r.append(token);
      if (r.constraint != null && !r.constraint.accept(token)) { // the mask allowed it, so this is a bug
        log.error("Request {} sampled token {} that its constraint does not allow; aborting it", r.id, token);
        remove(r);
        if (nextMask != null) nextMask.completeDiscarded();
        sampled.add(new SampledToken(r, token, null, r.numOutput(), false, true, true));
        continue;
      }
      boolean capped = r.numOutput() >= r.maxTokens || r.numTokens >= config.maxModelLen();
      boolean ends = r.stops.endsByToken(token, r.numOutput(), capped);
      if (ends) remove(r);
      if (nextMask != null) {
        if (ends) {
          nextMask.completeDiscarded();
        } else {
          long start = System.nanoTime();
          nextMask.complete(r.constraint.allowed(r.maxTokens - r.numOutput()));
          maskNanos += System.nanoTime() - start;
          masks++;
        }
      }
      sampled.add(new SampledToken(r, token, logprob, r.numOutput(), capped, ends, false));
    }
    if (masks > 0) MaskStats.recordStep(maskNanos, masks);
    return sampled;
  }

  /**
   * One sampled token of a request before its text is known: what {@link #toOutput} turns into the request's
   * output. {@code finished}: the engine already ended the request at the token level.
   */
  record SampledToken(Request request, int token, TokenLogprob logprob, int numOutput, boolean capped,
      boolean finished, boolean constraintViolation) {

    /** Detokenizes and checks stop strings (the request's {@link StopChecker}, so one thread at a time). */
    RequestOutput toOutput() {
      Request r = request;
      if (constraintViolation) {
        return new RequestOutput(r.id, new int[] {token}, "", List.of(), FinishReason.ABORT, null, r.numPrompt,
            Math.max(0, r.numCachedPrompt), numOutput, r.queuedNanos, r.scheduledNanos);
      }
      StopChecker.Decision d;
      try {
        d = r.stops.onToken(token, numOutput, capped);
      } catch (RuntimeException e) { // one request's bad output must not take the others down
        log.error("Request {} failed after token {}; aborting it", r.id, token, e);
        d = new StopChecker.Decision("", FinishReason.ABORT, null);
      }
      return new RequestOutput(r.id, new int[] {token}, d.text(),
          logprob == null ? List.of() : List.of(logprob), d.finish(), d.stopReason(), r.numPrompt,
          Math.max(0, r.numCachedPrompt), numOutput, r.queuedNanos, r.scheduledNanos,
          numOutput == 1 ? r.promptLogprobs : null);
    }
  }
}
