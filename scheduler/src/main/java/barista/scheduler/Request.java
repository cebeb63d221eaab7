package barista.scheduler;

import barista.engine.constraint.ConstraintMatcher;
import barista.engine.sampling.PromptLogprobs;
import barista.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One sequence and everything the engine thread knows about it: its tokens (prompt then output), how many of them
 * have KV in the cache, its generator, its text so far. Confined to the engine thread.
 */
final class Request {
  enum Status { WAITING, RUNNING, FINISHED }

  final long seqId;
  final String id;
  final SamplingParams params;
  final int priority;
  final long arrivalNanos;
  final long queuedNanos = System.nanoTime(); // taken by the engine thread
  long scheduledNanos; // first scheduled, 0 before
  final OutputListener listener;
  final int numPrompt;
  final int maxTokens;
  private final SplittableRandom random;
  final StopChecker stops;
  final ConstraintMatcher constraint; // null when unconstrained
  final ReasoningBudgetTracker reasoningBudget; // null without a reasoning budget
  final PromptLogprobs promptLogprobs; // null unless prompt logprobs were asked for

  Status status = Status.WAITING;
  int[] tokens;
  int numTokens;
  /** Tokens whose KV is computed or being computed by a step already scheduled (vLLM's num_computed_tokens). */
  int numComputed;
  /** Tokens whose step's result has been applied: their KV is in the cache and may be shared. */
  int numComputedApplied;
  /** Tokens sampled by steps still in flight (vLLM's num_output_placeholders): never more than one. */
  int placeholders;
  /** Steps in flight that hold this request (asynchronous scheduling). */
  int inFlight;
  /** The mask of the step in flight that runs ahead of this constrained request's last token, until applied. */
  DeferredMask nextMask;
  /** Set by the output stage once this request's last output went out (asynchronous scheduling). */
  boolean outputFinished;
  int numCachedPrompt = -1; // prompt tokens served by the prefix cache at first admission
  long queueKey; // waiting-queue order within a priority: arrival, or before everyone once preempted
  boolean aborted;

  // Produced by the last step, not yet sent.
  final List<Integer> newTokens = new ArrayList<>();
  final List<TokenLogprob> newLogprobs = new ArrayList<>();

  Request(long seqId, GenerationRequest r, int maxTokens, long randomSeed, StopChecker stops, OutputListener listener) {
    this.seqId = seqId;
    this.id = r.requestId();
    this.params = r.params();
    this.priority = r.priority();
    this.arrivalNanos = r.arrivalNanos();
    this.listener = listener;
    this.numPrompt = r.promptTokenIds().length;
    this.maxTokens = maxTokens;
    this.random = new SplittableRandom(randomSeed);
    this.stops = stops;
    this.constraint = r.grammar() == null ? null : r.grammar().matcher();
    this.reasoningBudget = r.params().reasoningBudget() == null ? null
        : new ReasoningBudgetTracker(r.params().reasoningBudget());
    this.promptLogprobs = r.params().promptLogprobs() == null ? null
        : new PromptLogprobs(r.promptTokenIds(), r.params().promptLogprobs());
    this.tokens = Arrays.copyOf(r.promptTokenIds(), numPrompt + Math.min(maxTokens, 64));
    this.numTokens = numPrompt;
  }

  int numOutput() {
    return numTokens - numPrompt;
  }

  void append(int token) {
    if (numTokens == tokens.length) tokens = Arrays.copyOf(tokens, Math.min(numPrompt + maxTokens, tokens.length * 2));
    tokens[numTokens++] = token;
    if (reasoningBudget != null) reasoningBudget.onToken(token);
  }

  /** The token the next sample must be (a spent reasoning budget), or -1. */
  int forcedToken() {
    return reasoningBudget == null ? -1 : reasoningBudget.forcedNext();
  }

  /** The next draw of this sequence's own generator: one per sampled token, so preemption replays the same draws. */
  double nextUniform() {
    return random.nextDouble();
  }

  /** Tokens still to compute before the next sample (a placeholder counts: the device feeds it). */
  int numUncomputed() {
    return numTokens + placeholders - numComputed;
  }

  /** Outputs including those sampled by steps in flight. */
  int numOutputScheduled() {
    return numOutput() + placeholders;
  }
}
