package barista.scheduler;

import barista.engine.ScheduledSequence;
import barista.engine.constraint.MaskStats;
import barista.engine.sampling.TokenMask;
import barista.kvcache.KvCacheManager;
import java.util.ArrayList;
import java.util.List;

/** The requests chosen for one step and how many new tokens each computes, in the order given to the engine. */
final class ScheduledBatch {
  final List<Request> requests = new ArrayList<>();
  private final List<Integer> numNew = new ArrayList<>();
  final List<ScheduledSequence> sequences = new ArrayList<>();

  void add(Request r, int n) {
    requests.add(r);
    numNew.add(n);
  }

  boolean contains(Request r) {
    return requests.contains(r);
  }

  /** Takes a request back out (it was preempted later in the same step); returns its token count. */
  int remove(Request r) {
    int i = requests.indexOf(r);
    requests.remove(i);
    return numNew.remove(i);
  }

  /**
   * Fixes the step: block tables, and for each request that samples, its random draw (drawn only now, so a request
   * taken back out does not consume one); then counts the step's tokens as computed and its samples as placeholders.
   */
  void seal(KvCacheManager kv) {
    long maskNanos = 0;
    int masks = 0;
    for (int i = 0; i < requests.size(); i++) {
      Request r = requests.get(i);
      int n = numNew.get(i);
      boolean sample = r.numComputed + n == r.numTokens + r.placeholders;
      TokenMask allowed = null;
      if (sample && r.constraint != null && r.placeholders > 0) {
        allowed = r.nextMask = new DeferredMask(); // completed once the token before is applied
      } else if (sample && r.constraint != null) {
        long start = System.nanoTime();
        allowed = r.constraint.allowed(r.maxTokens - r.numOutput());
        maskNanos += System.nanoTime() - start;
        masks++;
      }
      sequences.add(new ScheduledSequence(r.seqId, r.tokens, r.numPrompt, r.numOutput(), r.numComputed, n,
          kv.blockTable(r.seqId).toArray(), sample, r.params, sample ? r.nextUniform() : 0,
          sample ? r.stops.banned(r.numOutputScheduled()) : new int[0], allowed, sample ? r.forcedToken() : -1,
          r.promptLogprobs != null && r.numComputed < r.numPrompt ? r.promptLogprobs : null));
      // Advanced now, as vLLM does: the next step may be scheduled before this one's result is applied.
      r.numComputed += n;
      if (sample) r.placeholders++;
      r.inFlight++;
    }
    if (masks > 0) MaskStats.recordStep(maskNanos, masks);
  }

  /** New tokens of the step, prompt and decode together. */
  int numTokens() {
    int n = 0;
    for (int k : numNew) n += k;
    return n;
  }

  boolean isEmpty() {
    return requests.isEmpty();
  }
}
