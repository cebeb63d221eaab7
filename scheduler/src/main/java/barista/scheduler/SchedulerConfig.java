package barista.scheduler;

/**
 * The batching limits, with vLLM's flag names.
 *
 * @param policy "fcfs" or "priority" (lower value first, then arrival)
 * @param maxWaitingRequests beyond this many queued requests, submit answers overloaded
 * @param asyncScheduling schedule step N+1 while step N runs, and make outputs on output threads (vLLM's
 *     {@code --async-scheduling})
 */
public record SchedulerConfig(
    int maxNumSeqs,
    int maxNumBatchedTokens,
    boolean enableChunkedPrefill,
    boolean enablePrefixCaching,
    String policy,
    int maxModelLen,
    int maxWaitingRequests,
    boolean asyncScheduling) {

  /** Synchronous scheduling. */
  public SchedulerConfig(int maxNumSeqs, int maxNumBatchedTokens, boolean enableChunkedPrefill,
      boolean enablePrefixCaching, String policy, int maxModelLen, int maxWaitingRequests) {
    this(maxNumSeqs, maxNumBatchedTokens, enableChunkedPrefill, enablePrefixCaching, policy, maxModelLen,
        maxWaitingRequests, false);
  }

  public SchedulerConfig withAsyncScheduling(boolean on) {
    return new SchedulerConfig(maxNumSeqs, maxNumBatchedTokens, enableChunkedPrefill, enablePrefixCaching, policy,
        maxModelLen, maxWaitingRequests, on);
  }

  public SchedulerConfig {
    if (!policy.equals("fcfs") && !policy.equals("priority")) {
      throw new IllegalArgumentException("--scheduling-policy must be fcfs or priority, got " + policy);
    }
    if (!enableChunkedPrefill && maxNumBatchedTokens < maxModelLen) {
      throw new IllegalArgumentException("--max-num-batched-tokens (" + maxNumBatchedTokens + ") is smaller than "
          + "--max-model-len (" + maxModelLen + ") without chunked prefill: long prompts could never run");
    }
  }
}
