package barista.scheduler;

import barista.engine.sampling.SamplingParams;

/** One sequence to generate: the front end fans {@code n > 1} out into n requests with the same prompt. */
public record GenerationRequest(
  String requestId, int[] promptTokenIds, SamplingParams params, int priority, long arrivalNanos) {}
