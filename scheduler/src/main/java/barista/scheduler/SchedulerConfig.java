package barista.scheduler;

/**
 * The batching limits, with vLLM's flag names.
 *
 * @param policy "fcfs" or "priority" (lower value first, then arrival)
 * @param maxWaitingRequests beyond this many queued requests, submit answers overloaded
 */
public record SchedulerConfig(
    int maxNumSeqs,
    int maxNumBatchedTokens,
    boolean enableChunkedPrefill,
    boolean enablePrefixCaching,
    String policy,
    int maxModelLen,
    int maxWaitingRequests) {

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
