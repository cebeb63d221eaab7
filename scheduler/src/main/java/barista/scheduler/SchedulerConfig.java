package barista.scheduler;

import java.util.Objects;

/**
 * The batching limits, with vLLM's flag names.
 *
 * @param policy the order waiting requests are taken in
 * @param maxWaitingRequests beyond this many queued requests, submit answers overloaded
 * @param asyncScheduling schedule step N+1 while step N runs, and make outputs on output threads (vLLM's
 *     {@code --async-scheduling})
 */
public record SchedulerConfig(
    int maxNumSeqs,
    int maxNumBatchedTokens,
    boolean enableChunkedPrefill,
    boolean enablePrefixCaching,
    Policy policy,
    int maxModelLen,
    int maxWaitingRequests,
    boolean asyncScheduling) {

  /** vLLM's --scheduling-policy: arrival order, or the requests' priority values (lower first), then arrival. */
  public enum Policy { FCFS, PRIORITY }

  /** Synchronous scheduling. */
  public SchedulerConfig(int maxNumSeqs, int maxNumBatchedTokens, boolean enableChunkedPrefill,
      boolean enablePrefixCaching, Policy policy, int maxModelLen, int maxWaitingRequests) {
    this(maxNumSeqs, maxNumBatchedTokens, enableChunkedPrefill, enablePrefixCaching, policy, maxModelLen,
        maxWaitingRequests, false);
  }

  public SchedulerConfig withAsyncScheduling(boolean on) {
    return new SchedulerConfig(maxNumSeqs, maxNumBatchedTokens, enableChunkedPrefill, enablePrefixCaching, policy,
        maxModelLen, maxWaitingRequests, on);
  }

  public SchedulerConfig {
    Objects.requireNonNull(policy, "policy");
    if (!enableChunkedPrefill && maxNumBatchedTokens < maxModelLen) {
      throw new IllegalArgumentException("--max-num-batched-tokens (" + maxNumBatchedTokens + ") is smaller than "
          + "--max-model-len (" + maxModelLen + ") without chunked prefill: long prompts could never run");
    }
  }
}
