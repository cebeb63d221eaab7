package barista.engine.sampling;

/**
 * The tokens chosen for each row, and their log-probabilities when asked for.
 *
 * @param logprobs per row the chosen token's log-probability, or NaN when the row asked for none
 * @param topIds per row the most likely token ids (length = that row's logprobs count), or null
 */
public record SampleResult(int[] tokens, float[] logprobs, int[][] topIds, float[][] topLogprobs) {}
