package barista.scheduler;

/** The log-probability of a generated token and of the most likely alternatives (most likely first). */
public record TokenLogprob(int tokenId, float logprob, int[] topTokenIds, float[] topLogprobs) {}
