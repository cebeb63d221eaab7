package barista.scheduler;

import barista.engine.constraint.Grammar;
import barista.engine.sampling.SamplingParams;

/**
 * One sequence to generate: the front end fans {@code n > 1} out into n requests with the same prompt.
 *
 * @param grammar null, or the structured-output constraint every sampled token must follow
 */
public record GenerationRequest(
  String requestId, int[] promptTokenIds, SamplingParams params, int priority, long arrivalNanos, Grammar grammar) {

  public GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params, int priority,
      long arrivalNanos) {
    this(requestId, promptTokenIds, params, priority, arrivalNanos, null);
  }
}
