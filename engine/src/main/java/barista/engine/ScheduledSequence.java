package barista.engine;

import barista.engine.sampling.PromptLogprobs;
import barista.engine.sampling.SamplingParams;
import barista.engine.sampling.TokenMask;

/**
 * One sequence's part of a step, as the scheduler hands it to the {@link ModelRunner}: compute tokens
 * {@code [numComputed, numComputed + numNew)} of {@code tokens}, whose KV lives in {@code blockTable}, and sample
 * the next token if {@code sample}.
 *
 * @param tokens prompt then output (only the first {@code numPrompt + numOutput} entries are valid)
 * @param uniform the sequence's random draw for this step (see {@link barista.engine.sampling.Sampler})
 * @param banned token ids that must not be sampled this step
 * @param allowed null, or the constraint's mask of the token ids that may be sampled this step (possibly still
 *     being computed: the sampler waits for it)
 * @param forcedToken the token to pick this step regardless of the logits, or -1 (see {@link
 *     barista.engine.sampling.ReasoningBudget})
 * @param promptLogprobs null, or where this step's prompt rows' logprobs go (prompt tokens after {@code
 *     numComputed} that this step computes)
 * @param fedToken the last of the {@code numPrompt + numOutput} tokens when {@code tokens} does not hold it yet (the
 *     token the previous step sampled, fed by {@link StepPipeline}), else -1: read tokens through {@link #token}
 */
public record ScheduledSequence(
    long seqId,
    int[] tokens,
    int numPrompt,
    int numOutput,
    int numComputed,
    int numNew,
    int[] blockTable,
    boolean sample,
    SamplingParams params,
    double uniform,
    int[] banned,
    TokenMask allowed,
    int forcedToken,
    PromptLogprobs promptLogprobs,
    int fedToken) {

  /** A sequence whose {@code tokens} hold all its {@code numPrompt + numOutput} tokens. */
  public ScheduledSequence(long seqId, int[] tokens, int numPrompt, int numOutput, int numComputed, int numNew,
      int[] blockTable, boolean sample, SamplingParams params, double uniform, int[] banned, TokenMask allowed,
      int forcedToken, PromptLogprobs promptLogprobs) {
    this(seqId, tokens, numPrompt, numOutput, numComputed, numNew, blockTable, sample, params, uniform, banned,
        allowed, forcedToken, promptLogprobs, -1);
  }

  /** The token at {@code position} (below {@code numPrompt + numOutput}). */
  public int token(int position) {
    return fedToken >= 0 && position == numPrompt + numOutput - 1 ? fedToken : tokens[position];
  }

  /**
   * All {@code numPrompt + numOutput} tokens in one array: {@code tokens} itself, or a copy with the fed token
   * (for the few rows whose sampling reads their history: penalties, bad words).
   */
  public int[] history() {
    if (fedToken < 0) return tokens;
    int[] all = java.util.Arrays.copyOf(tokens, numPrompt + numOutput);
    all[all.length - 1] = fedToken;
    return all;
  }
}
