package barista.engine.sampling;

import java.util.Arrays;

/**
 * One request's prompt logprobs as its prefill steps compute them (vLLM's prompt_logprobs): for each prompt token
 * after the first, its logprob given the tokens before it, its rank, and the {@code k} most likely tokens at that
 * position. A prompt's rows may arrive over several chunked-prefill steps; a row is written once (a recompute after
 * preemption writes the same values and is ignored), on the step's thread, and read once the first output token is
 * applied, after that step's result was handed over.
 */
public final class PromptLogprobs {
  private final int k;
  private final int[] tokens;
  private final float[] logprob;
  private final int[] rank;
  private final int[][] topIds;
  private final float[][] topLogprobs;
  private final boolean[] filled;

  /** @param prompt the prompt's token ids; @param k the number of top alternatives per token */
  public PromptLogprobs(int[] prompt, int k) {
    this.k = k;
    this.tokens = prompt.clone();
    int n = prompt.length;
    logprob = new float[n];
    Arrays.fill(logprob, Float.NaN);
    rank = new int[n];
    topIds = new int[n][];
    topLogprobs = new float[n][];
    filled = new boolean[n];
    if (n > 0) filled[0] = true; // nothing precedes the first token: its entry stays null
  }

  public int k() {
    return k;
  }

  public int numPrompt() {
    return tokens.length;
  }

  /** The prompt token at {@code position}. */
  public int token(int position) {
    return tokens[position];
  }

  /** Records token {@code position}'s logprob given the tokens before it; later writes of a row are ignored. */
  public void set(int position, float tokenLogprob, int tokenRank, int[] ids, float[] lps) {
    if (filled[position]) return;
    logprob[position] = tokenLogprob;
    rank[position] = tokenRank;
    topIds[position] = ids;
    topLogprobs[position] = lps;
    filled[position] = true;
  }

  /** Whether every row is computed. */
  public boolean complete() {
    for (boolean f : filled) if (!f) return false;
    return true;
  }

  /** Token {@code position}'s logprob; NaN for the first token. */
  public float logprob(int position) {
    return logprob[position];
  }

  /** 1 + the number of tokens more likely than token {@code position} there (vLLM's rank); 0 for the first. */
  public int rank(int position) {
    return rank[position];
  }

  /** The k most likely token ids at {@code position}, most likely first; null for the first token. */
  public int[] topIds(int position) {
    return topIds[position];
  }

  public float[] topLogprobs(int position) {
    return topLogprobs[position];
  }
}
