package barista.engine.sampling;

/**
 * What the sampler needs to know about one sequence this step.
 *
 * @param uniform a draw from the sequence's own generator in [0, 1), used by inverse-CDF sampling (ignored when greedy)
 * @param tokens the prompt followed by the output so far (only the first {@code numPrompt + numOutput} are valid),
 *     read only where {@link #readsHistory} says so: elsewhere the last output token may be missing (the
 *     asynchronous pipeline feeds it beside the array)
 * @param banned token ids that must not be sampled now (EOS and stop ids until min_tokens is reached)
 * @param allowed null, or the only token ids that may be sampled now: a structured-output constraint's mask
 * @param forcedToken the token this row must pick (a spent reasoning budget closing the thinking), or -1
 */
public record SamplingRow(SamplingParams params, double uniform, int[] tokens, int numPrompt, int numOutput,
    int[] banned, TokenMask allowed, int forcedToken) {

  public SamplingRow(SamplingParams params, double uniform, int[] tokens, int numPrompt, int numOutput, int[] banned) {
    this(params, uniform, tokens, numPrompt, numOutput, banned, null, -1);
  }

  /** Whether sampling with {@code params} reads the row's tokens: penalties count them, bad words match them. */
  public static boolean readsHistory(SamplingParams params) {
    return params.hasPenalties() || !params.badWords().isEmpty();
  }

  /** A constrained row (no forced token). */
  public SamplingRow(SamplingParams params, double uniform, int[] tokens, int numPrompt, int numOutput, int[] banned,
      TokenMask allowed) {
    this(params, uniform, tokens, numPrompt, numOutput, banned, allowed, -1);
  }

  /** An unconstrained row that may force its token. */
  public SamplingRow(SamplingParams params, double uniform, int[] tokens, int numPrompt, int numOutput, int[] banned,
      int forcedToken) {
    this(params, uniform, tokens, numPrompt, numOutput, banned, null, forcedToken);
  }
}
